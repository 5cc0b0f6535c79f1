// Offline validation of deploy/k8s (label deploy): every overlay renders with kustomize (the Go
// API of kustomize, from the Go module proxy), every built-in object decodes strictly against
// the Kubernetes API types (unknown or duplicate fields fail), and every Strimzi KafkaTopic uses
// only fields of the v1beta2 KafkaTopic schema.
package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
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

func TestEveryOverlayRendersAndDecodesStrictly(t *testing.T) {
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	for _, cloud := range clouds {
		t.Run(cloud, func(t *testing.T) {
			objects := Render(t, cloud)
			kinds := map[string]int{}
			for _, o := range objects {
				kinds[o.Kind]++
				if o.Kind == "KafkaTopic" {
					if err := ValidateKafkaTopic(o.Map); err != nil {
						t.Errorf("KafkaTopic %s: %v", o.Name, err)
					}
					continue
				}
				if _, _, err := strict.Decode(o.YAML, nil, nil); err != nil {
					t.Errorf("%s %s does not decode strictly: %v", o.Kind, o.Name, err)
				}
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

// The strict decoder must catch what it is here to catch.
func TestTheStrictDecoderRejectsUnknownAndDuplicateFields(t *testing.T) {
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	for name, doc := range map[string]string{
		"unknown":   "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\nautomountToken: false\n",
		"duplicate": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  name: other\n",
	} {
		if _, _, err := strict.Decode([]byte(doc), nil, nil); err == nil || !k8sruntime.IsStrictDecodingError(err) && !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("%s field: want a strict decoding error, got %v", name, err)
		}
	}
	if err := ValidateKafkaTopic(map[string]interface{}{"apiVersion": "kafka.strimzi.io/v1beta2",
		"kind": "KafkaTopic", "metadata": map[string]interface{}{"name": "x"},
		"spec": map[string]interface{}{"partitions": 3, "replicaz": 3}}); err == nil {
		t.Error("a misspelled KafkaTopic field passed")
	}
}

// Fields of kafka.strimzi.io/v1beta2 KafkaTopic (Strimzi 0.4x CRD: spec and status), as a
// tested list: the CRD YAML is not served by a registry reachable here.
var kafkaTopicFields = map[string]map[string]bool{
	"":         {"apiVersion": true, "kind": true, "metadata": true, "spec": true},
	"spec":     {"partitions": true, "replicas": true, "config": true, "topicName": true},
	"metadata": {"name": true, "namespace": true, "labels": true, "annotations": true},
}

func ValidateKafkaTopic(obj map[string]interface{}) error {
	if obj["apiVersion"] != "kafka.strimzi.io/v1beta2" {
		return fmt.Errorf("apiVersion %v", obj["apiVersion"])
	}
	var problems []string
	check := func(path string, m map[string]interface{}) {
		for k := range m {
			if !kafkaTopicFields[path][k] {
				problems = append(problems, strings.TrimPrefix(path+"."+k, "."))
			}
		}
	}
	check("", obj)
	for _, sub := range []string{"spec", "metadata"} {
		if m, ok := obj[sub].(map[string]interface{}); ok {
			check(sub, m)
		}
	}
	spec, _ := obj["spec"].(map[string]interface{})
	if spec == nil {
		return fmt.Errorf("no spec")
	}
	if _, ok := spec["partitions"].(float64); !ok {
		if _, ok := spec["partitions"].(int); !ok {
			problems = append(problems, "spec.partitions must be an integer")
		}
	}
	if cfg, ok := spec["config"].(map[string]interface{}); ok {
		for k, v := range cfg {
			if _, ok := v.(string); !ok {
				problems = append(problems, "spec.config."+k+" must be a string")
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("unknown or invalid fields: %s", strings.Join(problems, ", "))
	}
	return nil
}
