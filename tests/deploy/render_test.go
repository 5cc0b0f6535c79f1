// Rendering deploy/k8s (label deploy): every overlay renders with kustomize (the Go API of
// kustomize, from the Go module proxy) into the objects the other deploy tests check.
package deploy

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

var clouds = []string{"global", "usgov", "germany"}

// Object is one rendered manifest: its YAML and a generic view of it.
type Object struct {
	Kind, Name, Namespace string
	YAML                  []byte
	Map                   map[string]interface{}
}

func repoRoot(t *testing.T) string {
	if dir := os.Getenv("PC_SOURCE_DIR"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Render builds deploy/k8s/overlays/<cloud> the way `kubectl apply -k` would.
func Render(t *testing.T, cloud string) []Object {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "k8s", "overlays", cloud)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []Object
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		var obj map[string]interface{}
		if err := yaml.Unmarshal(y, &obj); err != nil {
			t.Fatalf("%s: %v", r.CurId(), err)
		}
		out = append(out, Object{Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace(), YAML: y, Map: obj})
	}
	return out
}

// Unknown fields, wrong types and admission are the API server's to check (apiserver_test.go);
// here: every overlay renders, everything is in the cloud's namespace, and nothing is missing.
func TestEveryOverlayRenders(t *testing.T) {
	for _, cloud := range clouds {
		t.Run(cloud, func(t *testing.T) {
			objects := Render(t, cloud)
			kinds := map[string]int{}
			for _, o := range objects {
				kinds[o.Kind]++
				if o.Kind != "Namespace" && o.Namespace != "partnercenter-"+cloud {
					t.Errorf("%s %s is in namespace %q", o.Kind, o.Name, o.Namespace)
				}
			}
			// Four workloads (invitation, relationship, notification, portal); the portal owns no
			// database, so three migration Jobs.
			want := map[string]int{"Namespace": 1, "KafkaTopic": 3, "Deployment": 4, "Job": 3,
				"Service": 4, "ServiceAccount": 4, "PodDisruptionBudget": 4,
				"HorizontalPodAutoscaler": 4, "NetworkPolicy": 4, "ConfigMap": 4}
			for kind, n := range want {
				if kinds[kind] != n {
					t.Errorf("%d %s objects, want %d", kinds[kind], kind, n)
				}
			}
		})
	}
}
