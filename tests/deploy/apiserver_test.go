// Every overlay applied to a real Kubernetes API server (label deploy, fixture kube: etcd and
// kube-apiserver from deploy/local/kube/kube.sh, PodSecurity admission on). The CRDs of the
// custom kinds the overlays use are installed first (tests/deploy/crds). Each overlay is then
// applied for real with `kubectl apply --server-side --validate=strict` into its namespace,
// which enforces PodSecurity "restricted": every object must be accepted with no warning
// printed, and the Pod each Deployment and Job would create must pass PodSecurity's
// enforcement (a server-side dry run of that Pod; the API server alone runs no controllers).
// Deliberately broken copies must be refused.
package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// kubectl runs kubectl against the fixture's API server with `stdin`; it returns stdout,
// stderr (where kubectl prints the server's warnings) and the error.
func kubectl(t *testing.T, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", requiredEnv(t, "PC_TEST_KUBECONFIG")}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func installCRDs(t *testing.T) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "tests", "deploy", "crds")
	if _, stderr, err := kubectl(t, nil, "apply", "--server-side", "--field-manager=deploy-tier", "-f", dir); err != nil {
		t.Fatalf("installing the CRDs: %v\n%s", err, stderr)
	}
	if _, stderr, err := kubectl(t, nil, "wait", "--for=condition=Established", "--timeout=60s", "-f", dir); err != nil {
		t.Fatalf("the CRDs are not established: %v\n%s", err, stderr)
	}
}

func joinYAML(objects []Object) []byte {
	var b bytes.Buffer
	for _, o := range objects {
		b.WriteString("---\n")
		b.Write(o.YAML)
	}
	return b.Bytes()
}

// applyObjects applies `doc` server-side; it returns kubectl's stderr and error.
func applyObjects(t *testing.T, doc []byte, extra ...string) (string, error) {
	args := append([]string{"apply", "--server-side", "--field-manager=deploy-tier", "--validate=strict", "-f", "-"}, extra...)
	_, stderr, err := kubectl(t, doc, args...)
	return stderr, err
}

// podOf is the Pod a controller would create from `template` in `namespace`.
func podOf(name, namespace string, template corev1.PodTemplateSpec) []byte {
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: template.Labels},
		Spec:       template.Spec,
	}
	y, _ := yaml.Marshal(pod)
	return y
}

func podTemplates(t *testing.T, objects []Object) map[string]corev1.PodTemplateSpec {
	templates := map[string]corev1.PodTemplateSpec{}
	for _, o := range objects {
		switch o.Kind {
		case "Deployment":
			templates["deployment-"+o.Name] = decode[appsv1.Deployment](t, o).Spec.Template
		case "Job":
			templates["job-"+o.Name] = decode[batchv1.Job](t, o).Spec.Template
		}
	}
	return templates
}

func TestEveryOverlayIsAdmittedByARealAPIServer(t *testing.T) {
	installCRDs(t)
	for _, cloud := range clouds {
		t.Run(cloud, func(t *testing.T) {
			objects := Render(t, cloud)
			stderr, err := applyObjects(t, joinYAML(objects))
			if err != nil {
				t.Fatalf("kubectl apply --server-side refused the %s overlay: %v\n%s", cloud, err, stderr)
			}
			if strings.TrimSpace(stderr) != "" {
				t.Errorf("applying the %s overlay printed warnings:\n%s", cloud, stderr)
			}
			// Every object is stored as rendered.
			for _, o := range objects {
				ref := strings.ToLower(o.Kind) + "/" + o.Name
				args := []string{"get", ref, "-o", "name"}
				if o.Namespace != "" {
					args = append(args, "-n", o.Namespace)
				}
				if _, stderr, err := kubectl(t, nil, args...); err != nil {
					t.Errorf("%s is not stored: %v %s", ref, err, stderr)
				}
			}
			namespace := objects[0].Namespace
			for _, o := range objects {
				if o.Kind == "Namespace" {
					namespace = o.Name
				}
			}
			for name, template := range podTemplates(t, objects) {
				if stderr, err := applyObjects(t, podOf(name, namespace, template), "--dry-run=server"); err != nil || strings.TrimSpace(stderr) != "" {
					t.Errorf("the Pod of %s is refused or warned about in %s: %v\n%s", name, namespace, err, stderr)
				}
			}
		})
	}
}

// mutate returns a copy of the rendered object `kind`/`name` of the global overlay with `edit`
// applied to its generic form.
func mutate(t *testing.T, kind, name string, edit func(map[string]interface{})) []byte {
	t.Helper()
	for _, o := range Render(t, "global") {
		if o.Kind == kind && o.Name == name {
			var copied map[string]interface{}
			if err := yaml.Unmarshal(o.YAML, &copied); err != nil {
				t.Fatal(err)
			}
			edit(copied)
			y, err := yaml.Marshal(copied)
			if err != nil {
				t.Fatal(err)
			}
			return y
		}
	}
	t.Fatalf("no %s %s in the global overlay", kind, name)
	return nil
}

func container(obj map[string]interface{}) map[string]interface{} {
	spec := obj["spec"].(map[string]interface{})["template"].(map[string]interface{})["spec"].(map[string]interface{})
	return spec["containers"].([]interface{})[0].(map[string]interface{})
}

func TestTheAPIServerRefusesBrokenManifests(t *testing.T) {
	installCRDs(t)
	// The namespace (restricted) and the objects the broken copies refer to.
	if stderr, err := applyObjects(t, joinYAML(Render(t, "global"))); err != nil {
		t.Fatalf("applying the global overlay: %v\n%s", err, stderr)
	}
	cases := []struct {
		name, kind, object, want string
		edit                     func(map[string]interface{})
		asPod                    bool
	}{
		{name: "privileged container", kind: "Deployment", object: "relationship", asPod: true, want: "violates PodSecurity",
			edit: func(o map[string]interface{}) {
				sc := container(o)["securityContext"].(map[string]interface{})
				sc["privileged"] = true
				sc["allowPrivilegeEscalation"] = true
			}},
		{name: "container running as root", kind: "Deployment", object: "invitation", asPod: true, want: "runAsUser=0",
			edit: func(o map[string]interface{}) {
				sc := container(o)["securityContext"].(map[string]interface{})
				sc["runAsUser"] = 0
				sc["runAsNonRoot"] = false
			}},
		{name: "unknown field", kind: "Deployment", object: "notification", want: "imagePullPolicyy: field not declared in schema",
			edit: func(o map[string]interface{}) { container(o)["imagePullPolicyy"] = "Always" }},
		{name: "wrong type", kind: "Deployment", object: "portal", want: ".spec.replicas: expected numeric",
			edit: func(o map[string]interface{}) { o["spec"].(map[string]interface{})["replicas"] = "three" }},
		{name: "unknown field in a KafkaTopic", kind: "KafkaTopic", object: "invitation-events", want: "spec.partition: field not declared in schema",
			edit: func(o map[string]interface{}) { o["spec"].(map[string]interface{})["partition"] = 6 }},
		{name: "wrong type in a KafkaTopic", kind: "KafkaTopic", object: "dead-letter", want: ".spec.partitions: expected numeric",
			edit: func(o map[string]interface{}) { o["spec"].(map[string]interface{})["partitions"] = "six" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := mutate(t, c.kind, c.object, c.edit)
			if c.asPod {
				// PodSecurity enforces on Pods and warns on their controllers: both must show.
				stderr, err := applyObjects(t, doc, "--dry-run=server")
				if !strings.Contains(stderr, "would violate PodSecurity") {
					t.Errorf("no PodSecurity warning for the %s Deployment: %v\n%s", c.name, err, stderr)
				}
				var d appsv1.Deployment
				if err := yaml.Unmarshal(doc, &d); err != nil {
					t.Fatal(err)
				}
				doc = podOf("broken-"+c.object, d.Namespace, d.Spec.Template)
			}
			stderr, err := applyObjects(t, doc, "--dry-run=server")
			if err == nil {
				t.Fatalf("the API server accepted a %s", c.name)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("refused, but the message does not name %q:\n%s", c.want, stderr)
			}
			fmt.Fprintf(os.Stderr, "refused as expected (%s): %s", c.name, stderr)
		})
	}
}
