package deploy

// The PrometheusRule in deploy/k8s: its fields are the prometheus-operator's, and promtool
// (Debian's prometheus package, installed by tools/dev/deps.d/deploy.sh) accepts the rules and
// passes their unit tests (alerts_test.yaml). A missing promtool fails the test.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var prometheusRuleFields = map[string]map[string]bool{
	"":         {"apiVersion": true, "kind": true, "metadata": true, "spec": true},
	"spec":     {"groups": true},
	"metadata": {"name": true, "namespace": true, "labels": true, "annotations": true},
}

func TestAlertRulesPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (apt-get install prometheus; tools/dev/deps.sh does): %v", err)
	}
	var rules []Object
	for _, o := range Render(t, "global") {
		if o.Kind == "PrometheusRule" {
			rules = append(rules, o)
		}
	}
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRule objects, want 1", len(rules))
	}
	obj := rules[0].Map
	if obj["apiVersion"] != "monitoring.coreos.com/v1" {
		t.Errorf("apiVersion %v", obj["apiVersion"])
	}
	for path, allowed := range prometheusRuleFields {
		m := obj
		if path != "" {
			m, _ = obj[path].(map[string]interface{})
		}
		for k := range m {
			if !allowed[k] {
				t.Errorf("unknown field %s", strings.TrimPrefix(path+"."+k, "."))
			}
		}
	}
	spec, err := yaml.Marshal(obj["spec"])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), spec, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
