// Policy checks over the rendered overlays — the best-practice linting kube-linter/kube-score
// would do (neither is served by a registry reachable here): probes, requests and limits, the
// Pod Security "restricted" container settings, a PDB and an HPA per Deployment, pinned images,
// NetworkPolicies, and that the cloud overlays differ only where they should.
package deploy

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func decode[T any](t *testing.T, o Object) T {
	var v T
	if err := yaml.UnmarshalStrict(o.YAML, &v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Name, err)
	}
	return v
}

func containerProblems(c corev1.Container, needProbes bool) []string {
	var p []string
	if needProbes {
		if c.StartupProbe == nil || c.ReadinessProbe == nil || c.LivenessProbe == nil {
			p = append(p, "missing a startup, readiness or liveness probe")
		}
		// The gRPC port is mTLS, which the kubelet's gRPC probe cannot speak: probes ask the
		// admin port's /healthz and /readyz (the same answers as gRPC health "" and "readiness").
		for _, probe := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
			if probe != nil && (probe.HTTPGet == nil || probe.HTTPGet.Port.String() != "admin") {
				p = append(p, "probe is not an HTTP probe of the admin port")
			}
		}
		if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			p = append(p, "the readiness probe does not ask /readyz")
		}
		for _, probe := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe} {
			if probe != nil && probe.HTTPGet != nil && probe.HTTPGet.Path != "/healthz" {
				p = append(p, "a startup or liveness probe does not ask /healthz")
			}
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		p = append(p, "missing cpu/memory requests")
	}
	if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		p = append(p, "missing cpu/memory limits")
	}
	s := c.SecurityContext
	switch {
	case s == nil:
		p = append(p, "no securityContext")
	default:
		if s.RunAsNonRoot == nil || !*s.RunAsNonRoot {
			p = append(p, "runAsNonRoot is not true")
		}
		if s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
			p = append(p, "allowPrivilegeEscalation is not false")
		}
		if s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem {
			p = append(p, "readOnlyRootFilesystem is not true")
		}
		if s.Capabilities == nil || len(s.Capabilities.Drop) != 1 || s.Capabilities.Drop[0] != "ALL" ||
			len(s.Capabilities.Add) > 0 {
			p = append(p, "capabilities are not exactly drop [ALL]")
		}
		if s.SeccompProfile == nil || s.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			p = append(p, "seccompProfile is not RuntimeDefault")
		}
		if s.Privileged != nil && *s.Privileged {
			p = append(p, "privileged")
		}
	}
	if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") {
		p = append(p, "image "+c.Image+" is not pinned to a tag")
	}
	return p
}

func podProblems(spec corev1.PodSpec) []string {
	var p []string
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		p = append(p, "automountServiceAccountToken is not false")
	}
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		p = append(p, "pod securityContext.runAsNonRoot is not true")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		p = append(p, "uses a host namespace")
	}
	scratch := false
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			p = append(p, "hostPath volume "+v.Name)
		}
		if v.EmptyDir != nil {
			scratch = true
		}
	}
	if !scratch {
		p = append(p, "no emptyDir for scratch space (the root filesystem is read-only)")
	}
	return p
}

func TestWorkloadsFollowThePolicies(t *testing.T) {
	for _, cloud := range clouds {
		t.Run(cloud, func(t *testing.T) {
			objects := Render(t, cloud)
			pdbs, hpas, netpols := map[string]bool{}, map[string]bool{}, map[string]bool{}
			for _, o := range objects {
				switch o.Kind {
				case "PodDisruptionBudget":
					pdbs[o.Name] = true
				case "HorizontalPodAutoscaler":
					hpas[o.Name] = true
				case "NetworkPolicy":
					netpols[o.Name] = true
				}
			}
			deployments := 0
			for _, o := range objects {
				switch o.Kind {
				case "Deployment":
					deployments++
					d := decode[appsv1.Deployment](t, o)
					problems := podProblems(d.Spec.Template.Spec)
					for _, c := range d.Spec.Template.Spec.Containers {
						problems = append(problems, containerProblems(c, true)...)
					}
					if !pdbs[o.Name] || !hpas[o.Name] || !netpols[o.Name] {
						problems = append(problems, "needs a PodDisruptionBudget, an HPA and a NetworkPolicy of the same name")
					}
					if len(d.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
						problems = append(problems, "no topology spread")
					}
					if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= 20 {
						problems = append(problems, "terminationGracePeriodSeconds must exceed the 20s drain")
					}
					if d.Spec.Template.Annotations["prometheus.io/scrape"] != "true" {
						problems = append(problems, "no Prometheus scrape annotation")
					}
					for _, p := range problems {
						t.Errorf("Deployment %s: %s", o.Name, p)
					}
				case "Job":
					j := decode[batchv1.Job](t, o)
					problems := podProblems(j.Spec.Template.Spec)
					for _, c := range j.Spec.Template.Spec.Containers {
						problems = append(problems, containerProblems(c, false)...)
					}
					for _, p := range problems {
						t.Errorf("Job %s: %s", o.Name, p)
					}
				case "Service":
					s := decode[corev1.Service](t, o)
					if s.Spec.ClusterIP != "None" {
						t.Errorf("Service %s is not headless (clients balance gRPC themselves)", o.Name)
					}
				}
			}
			if deployments == 0 {
				t.Fatal("no Deployments rendered")
			}
		})
	}
}

// The three clouds are the same release except for the cloud's own values: namespace, cloud
// name, topic names, portal URL, replica counts and the cloud label.
func TestCloudOverlaysDifferOnlyWhereTheyShould(t *testing.T) {
	normalize := func(cloud string, o Object) string {
		y := string(o.YAML)
		y = strings.ReplaceAll(y, "partnercenter-"+cloud, "partnercenter-CLOUD")
		y = strings.ReplaceAll(y, "partnercenter."+cloud+".", "partnercenter.CLOUD.")
		y = strings.ReplaceAll(y, "cloud: "+cloud, "cloud: CLOUD")
		y = strings.ReplaceAll(y, "PC_CLOUD: "+cloud, "PC_CLOUD: CLOUD")
		y = regexp.MustCompile(`PC_PORTAL_BASE_URL: https://\S+`).ReplaceAllString(y, "PC_PORTAL_BASE_URL: URL")
		y = regexp.MustCompile(`(?m)^(\s*)(replicas|minReplicas): \d+$`).ReplaceAllString(y, "$1$2: N")
		return y
	}
	rendered := map[string]map[string]string{}
	for _, cloud := range clouds {
		rendered[cloud] = map[string]string{}
		for _, o := range Render(t, cloud) {
			rendered[cloud][o.Kind+"/"+strings.ReplaceAll(o.Name, cloud, "CLOUD")] = normalize(cloud, o)
		}
	}
	for _, cloud := range clouds[1:] {
		if !reflect.DeepEqual(keys(rendered["global"]), keys(rendered[cloud])) {
			t.Errorf("%s renders other objects than global: %v vs %v", cloud, keys(rendered[cloud]), keys(rendered["global"]))
		}
		for id, y := range rendered["global"] {
			if rendered[cloud][id] != y {
				t.Errorf("%s differs from global in %s beyond the per-cloud values:\n%s", cloud, id, diff(y, rendered[cloud][id]))
			}
		}
	}
	// And they do differ where they must.
	for _, cloud := range clouds {
		found := false
		for _, o := range Render(t, cloud) {
			if o.Kind == "ConfigMap" && strings.Contains(string(o.YAML), "PC_CLOUD: "+cloud) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s overlay does not set PC_CLOUD", cloud)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("- %s\n+ %s", x, y))
		}
	}
	return strings.Join(out, "\n")
}

// The policy checks must find what they look for.
func TestThePolicyChecksCatchViolations(t *testing.T) {
	bad := corev1.Container{Name: "x", Image: "registry.example.com/x:latest"}
	problems := strings.Join(containerProblems(bad, true), "; ")
	for _, want := range []string{"probe", "requests", "limits", "securityContext", "not pinned"} {
		if !strings.Contains(problems, want) {
			t.Errorf("a bare container with :latest passed the %q check: %s", want, problems)
		}
	}
	if p := podProblems(corev1.PodSpec{}); len(p) < 3 {
		t.Errorf("an empty pod spec passed: %v", p)
	}
}
