// Rendering deploy/k8s (label deploy): every overlay renders with kustomize (the Go API of
// kustomize, from the Go module proxy) into the objects the other deploy tests check.
package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
				if o.Kind == "KafkaUser" {
					if err := ValidateKafkaUser(o.Map); err != nil {
						t.Errorf("KafkaUser %s: %v", o.Name, err)
					}
				}
				if o.Kind == "Certificate" || o.Kind == "Issuer" {
					if err := ValidateCertManager(o.Map); err != nil {
						t.Errorf("%s %s: %v", o.Kind, o.Name, err)
					}
				}
				if o.Kind != "Namespace" && o.Namespace != "partnercenter-"+cloud {
					t.Errorf("%s %s is in namespace %q", o.Kind, o.Name, o.Namespace)
				}
			}
			// Four workloads (invitation, relationship, notification, portal); the portal owns no
			// database, so three migration Jobs.
			want := map[string]int{"Namespace": 1, "KafkaTopic": 3, "KafkaUser": 3, "Deployment": 4, "Job": 3,
				"Service": 4, "ServiceAccount": 4, "PodDisruptionBudget": 4,
				"HorizontalPodAutoscaler": 4, "NetworkPolicy": 4, "ConfigMap": 4, "PrometheusRule": 1,
				"Certificate": 4, "Issuer": 1}
			for kind, n := range want {
				if kinds[kind] != n {
					t.Errorf("%d %s objects, want %d", kinds[kind], kind, n)
				}
			}
		})
	}
}

// The cert-manager check must catch what it is here to catch.
func TestValidateCertManagerRefusesAMisspelledField(t *testing.T) {
	if err := ValidateCertManager(map[string]interface{}{"apiVersion": "cert-manager.io/v1",
		"kind": "Certificate", "metadata": map[string]interface{}{"name": "x"},
		"spec": map[string]interface{}{"secretName": "x", "dnsName": []interface{}{"x"},
			"issuerRef": map[string]interface{}{"name": "ca"}}}); err == nil {
		t.Error("a misspelled Certificate field passed")
	}
}

// Fields of cert-manager.io/v1 Certificate and Issuer (cert-manager 1.x CRDs) this release
// uses or may use, as a tested list like kafkaUserFields (the CRDs of
// tests/deploy/crds check types on the API server; this checks what the project requires).
var certManagerFields = map[string]map[string]bool{
	"":         {"apiVersion": true, "kind": true, "metadata": true, "spec": true},
	"metadata": {"name": true, "namespace": true, "labels": true, "annotations": true},
	"Certificate.spec": {"secretName": true, "commonName": true, "dnsNames": true,
		"ipAddresses": true, "uris": true, "duration": true, "renewBefore": true,
		"privateKey": true, "usages": true, "issuerRef": true, "secretTemplate": true,
		"subject": true, "isCA": true, "revisionHistoryLimit": true},
	"Certificate.spec.privateKey": {"algorithm": true, "size": true, "encoding": true,
		"rotationPolicy": true},
	"Certificate.spec.issuerRef": {"name": true, "kind": true, "group": true},
	"Issuer.spec":                {"ca": true, "selfSigned": true, "vault": true, "acme": true},
	"Issuer.spec.ca":             {"secretName": true, "crlDistributionPoints": true},
}

var certificateUsages = map[string]bool{"server auth": true, "client auth": true,
	"digital signature": true, "key encipherment": true}

func ValidateCertManager(obj map[string]interface{}) error {
	if obj["apiVersion"] != "cert-manager.io/v1" {
		return fmt.Errorf("apiVersion %v", obj["apiVersion"])
	}
	kind, _ := obj["kind"].(string)
	var problems []string
	check := func(path string, m map[string]interface{}) {
		for k := range m {
			if !certManagerFields[path][k] {
				problems = append(problems, path+"."+k)
			}
		}
	}
	check("", obj)
	if m, ok := obj["metadata"].(map[string]interface{}); ok {
		check("metadata", m)
	}
	spec, _ := obj["spec"].(map[string]interface{})
	if spec == nil {
		return fmt.Errorf("no spec")
	}
	check(kind+".spec", spec)
	for _, sub := range []string{"privateKey", "issuerRef", "ca"} {
		if m, ok := spec[sub].(map[string]interface{}); ok {
			check(kind+".spec."+sub, m)
		}
	}
	if kind == "Certificate" {
		if s, _ := spec["secretName"].(string); s == "" {
			problems = append(problems, "spec.secretName is required")
		}
		if ref, _ := spec["issuerRef"].(map[string]interface{}); ref == nil || ref["name"] == nil {
			problems = append(problems, "spec.issuerRef.name is required")
		}
		usages, _ := spec["usages"].([]interface{})
		for _, u := range usages {
			if s, _ := u.(string); !certificateUsages[s] {
				problems = append(problems, fmt.Sprintf("spec.usages: unknown %v", u))
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("unknown or invalid fields: %s", strings.Join(problems, ", "))
	}
	return nil
}

// Fields and policy of the KafkaUsers (mTLS, simple authorization): the CRD checks types,
// this checks what the project requires of them.
// Fields of kafka.strimzi.io/v1beta2 KafkaUser used here (Strimzi 0.4x CRD), as a tested list.
var kafkaUserFields = map[string]map[string]bool{
	"":              {"apiVersion": true, "kind": true, "metadata": true, "spec": true},
	"metadata":      {"name": true, "namespace": true, "labels": true, "annotations": true},
	"spec":          {"authentication": true, "authorization": true, "quotas": true, "template": true},
	"authorization": {"type": true, "acls": true},
	"acl":           {"resource": true, "operations": true, "host": true, "type": true},
	"resource":      {"type": true, "name": true, "patternType": true},
}

var kafkaACLOperations = map[string]bool{"Read": true, "Write": true, "Create": true, "Delete": true,
	"Alter": true, "Describe": true, "ClusterAction": true, "AlterConfigs": true,
	"DescribeConfigs": true, "IdempotentWrite": true, "All": true}

func ValidateKafkaUser(obj map[string]interface{}) error {
	if obj["apiVersion"] != "kafka.strimzi.io/v1beta2" {
		return fmt.Errorf("apiVersion %v", obj["apiVersion"])
	}
	var problems []string
	check := func(path string, v interface{}) {
		m, _ := v.(map[string]interface{})
		for k := range m {
			if !kafkaUserFields[path][k] {
				problems = append(problems, path+"."+k)
			}
		}
	}
	check("", obj)
	check("metadata", obj["metadata"])
	spec, _ := obj["spec"].(map[string]interface{})
	check("spec", spec)
	if auth, _ := spec["authentication"].(map[string]interface{}); auth == nil || auth["type"] != "tls" {
		problems = append(problems, "spec.authentication.type must be tls (mTLS)")
	}
	authz, _ := spec["authorization"].(map[string]interface{})
	check("authorization", authz)
	if authz == nil || authz["type"] != "simple" {
		problems = append(problems, "spec.authorization.type must be simple")
	}
	acls, _ := authz["acls"].([]interface{})
	for i, a := range acls {
		acl, _ := a.(map[string]interface{})
		check("acl", acl)
		res, _ := acl["resource"].(map[string]interface{})
		check("resource", res)
		switch res["type"] {
		case "topic", "group":
			if name, _ := res["name"].(string); name == "" {
				problems = append(problems, fmt.Sprintf("acls[%d] names no %v", i, res["type"]))
			}
			if p := res["patternType"]; p != "literal" && p != "prefix" {
				problems = append(problems, fmt.Sprintf("acls[%d].resource.patternType %v", i, p))
			}
		case "cluster":
		default:
			problems = append(problems, fmt.Sprintf("acls[%d].resource.type %v", i, res["type"]))
		}
		ops, _ := acl["operations"].([]interface{})
		if len(ops) == 0 {
			problems = append(problems, fmt.Sprintf("acls[%d] has no operations", i))
		}
		for _, op := range ops {
			if s, _ := op.(string); !kafkaACLOperations[s] {
				problems = append(problems, fmt.Sprintf("acls[%d] operation %v", i, op))
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("unknown or invalid fields: %s", strings.Join(problems, ", "))
	}
	return nil
}

// acl is one (principal, operation, resource) grant of a rendered KafkaUser.
type acl struct{ user, op, resType, name, pattern string }

func userACLs(objects []Object) []acl {
	var out []acl
	for _, o := range objects {
		if o.Kind != "KafkaUser" {
			continue
		}
		spec, _ := o.Map["spec"].(map[string]interface{})
		authz, _ := spec["authorization"].(map[string]interface{})
		acls, _ := authz["acls"].([]interface{})
		for _, a := range acls {
			m, _ := a.(map[string]interface{})
			res, _ := m["resource"].(map[string]interface{})
			ops, _ := m["operations"].([]interface{})
			for _, op := range ops {
				name, _ := res["name"].(string)
				pattern, _ := res["patternType"].(string)
				out = append(out, acl{o.Name, op.(string), res["type"].(string), name, pattern})
			}
		}
	}
	return out
}

// The ACLs of each cloud name that cloud's topics, and only the invitation service may write
// invitation events (design.md §9: a forged event is refused by the broker).
func TestKafkaUsersGrantLeastPrivilegeOnTheirCloudsTopics(t *testing.T) {
	for _, cloud := range clouds {
		t.Run(cloud, func(t *testing.T) {
			objects := Render(t, cloud)
			topics := map[string]string{} // topicName -> KafkaTopic name
			for _, o := range objects {
				if o.Kind == "KafkaTopic" {
					spec, _ := o.Map["spec"].(map[string]interface{})
					topics[spec["topicName"].(string)] = o.Name
				}
			}
			got := map[string]bool{}
			for _, a := range userACLs(objects) {
				if a.resType == "topic" {
					if _, ok := topics[a.name]; !ok {
						t.Errorf("KafkaUser %s: ACL on %s, which is no topic of this release", a.user, a.name)
					}
					if a.pattern != "literal" {
						t.Errorf("KafkaUser %s: topic ACL on %s is %s, want literal", a.user, a.name, a.pattern)
					}
					got[a.user+" "+a.op+" "+topics[a.name]] = true
				} else {
					got[a.user+" "+a.op+" "+a.resType+":"+a.name] = true
				}
			}
			want := []string{
				"invitation Write invitation-events", "invitation Describe invitation-events",
				"invitation IdempotentWrite cluster:",
				"relationship Read invitation-events", "relationship Describe invitation-events",
				"relationship Read relationship-events", "relationship Write relationship-events",
				"relationship Describe relationship-events", "relationship Write dead-letter",
				"relationship Describe dead-letter", "relationship Read group:relationship",
				"relationship IdempotentWrite cluster:", "relationship Read group:tailer-",
				"notification Read invitation-events", "notification Describe invitation-events",
				"notification Read relationship-events", "notification Describe relationship-events",
				"notification Write dead-letter", "notification Describe dead-letter",
				"notification Read group:notification", "notification Read group:end-offsets-",
				"notification IdempotentWrite cluster:",
			}
			for _, w := range want {
				if !got[w] {
					t.Errorf("missing ACL: %s", w)
				}
				delete(got, w)
			}
			for extra := range got {
				t.Errorf("ACL beyond least privilege: %s", extra)
			}
		})
	}
}

// Every workload serves gRPC with its own cert-manager certificate: a Certificate per
// Deployment whose Secret the pod mounts whole (no subPath, so renewals reach the files) at
// the directory its PC_GRPC_TLS_* settings name.
func TestEveryWorkloadMountsItsGrpcCertificate(t *testing.T) {
	objects := Render(t, "global")
	secrets := map[string]string{} // Certificate name → secretName
	configs := map[string]map[string]string{}
	for _, o := range objects {
		switch o.Kind {
		case "Certificate":
			spec, _ := o.Map["spec"].(map[string]interface{})
			secrets[o.Name], _ = spec["secretName"].(string)
		case "ConfigMap":
			configs[o.Name] = decode[corev1.ConfigMap](t, o).Data
		}
	}
	deployments := 0
	for _, o := range objects {
		if o.Kind != "Deployment" {
			continue
		}
		deployments++
		d := decode[appsv1.Deployment](t, o)
		secret := secrets[o.Name+"-grpc"]
		if secret == "" {
			t.Errorf("%s: no Certificate %s-grpc", o.Name, o.Name)
			continue
		}
		volume := ""
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == secret {
				volume = v.Name
			}
		}
		c := d.Spec.Template.Spec.Containers[0]
		mountPath := ""
		for _, m := range c.VolumeMounts {
			if m.Name == volume {
				mountPath = m.MountPath
				if m.SubPath != "" {
					t.Errorf("%s: the certificate is mounted with subPath (renewals would not reach it)", o.Name)
				}
			}
		}
		if volume == "" || mountPath == "" {
			t.Errorf("%s: Secret %s is not mounted", o.Name, secret)
			continue
		}
		cfg := configs[o.Name+"-config"]
		for k, file := range map[string]string{"PC_GRPC_TLS_CERT_FILE": "tls.crt", "PC_GRPC_TLS_KEY_FILE": "tls.key",
			"PC_GRPC_TLS_CLIENT_CA_FILE": "ca.crt", "PC_GRPC_TLS_CA_FILE": "ca.crt"} {
			if cfg[k] != mountPath+"/"+file {
				t.Errorf("%s: %s=%q, want %s/%s", o.Name, k, cfg[k], mountPath, file)
			}
		}
	}
	if deployments != 4 {
		t.Errorf("%d Deployments, want 4", deployments)
	}
}
