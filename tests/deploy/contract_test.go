// The contract between the manifests and the binaries (label deploy, needs the test broker):
// each rendered Deployment's command, args and environment start the real binary locally —
// with hosts mapped to the local broker, a local SQLite store, dev JWT keys and free ports —
// and it must reach SERVING on gRPC health (the port its probes use) and 200 on /readyz;
// each migrations Job must exit 0. A PC_* variable the binary has no flag for fails the test.
package deploy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func requiredEnv(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run this test through ctest (its fixtures start the broker)", name)
	}
	return v
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The flags a binary knows, from its --helpfull output.
func knownFlags(t *testing.T, binary string) map[string]bool {
	out, _ := exec.Command(binary, "--helpfull").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z0-9_]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 5 {
		t.Fatalf("%s --helpfull listed no flags:\n%s", binary, out)
	}
	return flags
}

type launch struct {
	name, binary string
	args         []string
	env          map[string]string
	grpcPort     int
	adminPort    int
}

func TestManifestsStartTheRealBinaries(t *testing.T) {
	brokers := requiredEnv(t, "PC_TEST_KAFKA_BROKERS")
	binDir := requiredEnv(t, "PC_BINARY_DIR")
	infraDir := requiredEnv(t, "PC_TEST_INFRA_DIR")
	root := repoRoot(t)
	tmp := t.TempDir()

	// The topics Strimzi would create, on the local broker.
	create := exec.Command(filepath.Join(root, "deploy/local/kafka/kafka.sh"), "create-topics", "global")
	create.Env = append(os.Environ(), "PC_KAFKA_DIR="+filepath.Join(infraDir, "kafka"),
		"PC_KAFKA_PORT="+brokers[strings.LastIndex(brokers, ":")+1:])
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("create-topics: %v\n%s", err, out)
	}
	// The JWT public keys the Secret would hold.
	keys := filepath.Join(tmp, "jwt")
	if out, err := exec.Command(filepath.Join(binDir, "tools/pcctl/pcctl"), "dev-keys",
		"--jwt_keys_dir="+keys).CombinedOutput(); err != nil {
		t.Fatalf("pcctl dev-keys: %v\n%s", err, out)
	}

	objects := Render(t, "global")
	configs := map[string]map[string]string{}
	for _, o := range objects {
		if o.Kind == "ConfigMap" {
			configs[o.Name] = decode[corev1.ConfigMap](t, o).Data
		}
	}
	// Free local ports for every service, so its peers' addresses can be mapped.
	ports := map[string][2]int{}
	for _, o := range objects {
		if o.Kind == "Deployment" {
			ports[o.Name] = [2]int{freePort(t), freePort(t)}
		}
	}

	resolve := func(name string, spec corev1.PodSpec, c corev1.Container, isJob bool) launch {
		l := launch{name: name, binary: filepath.Join(binDir, "services", name, "pc-"+name),
			args: append(append([]string{}, c.Command...), c.Args...), env: map[string]string{},
			grpcPort: ports[name][0], adminPort: ports[name][1]}
		if _, err := os.Stat(l.binary); err != nil {
			t.Fatalf("%s: the manifest's binary is not built: %v", name, err)
		}
		mounts := map[string]bool{}
		for _, m := range c.VolumeMounts {
			mounts[m.MountPath] = true
		}
		set := func(k, v string) {
			switch {
			case k == "PC_KAFKA_BROKERS":
				v = brokers
			case k == "PC_KAFKA_CA_FILE" || k == "PC_KAFKA_CERT_FILE" || k == "PC_KAFKA_KEY_FILE":
				// The Strimzi Secrets (cluster CA, the service's KafkaUser): the test broker's CA
				// and the service's own certificate, so the broker's ACLs apply as in a cluster.
				// Migration Jobs never talk to Kafka and mount no Kafka Secret.
				if !isJob && !mounts[filepath.Dir(v)] {
					t.Errorf("%s: %s=%s is not in a mounted volume", name, k, v)
				}
				certs := requiredEnv(t, "PC_TEST_KAFKA_CERTS_DIR")
				v = map[string]string{"PC_KAFKA_CA_FILE": filepath.Join(certs, "ca.crt"),
					"PC_KAFKA_CERT_FILE": filepath.Join(certs, name+".crt"),
					"PC_KAFKA_KEY_FILE":  filepath.Join(certs, name+".key")}[k]
			case k == "PC_DATABASE_URL":
				v = "sqlite://" + filepath.Join(tmp, name+".db")
			case k == "PC_JWT_KEYS_DIR":
				if !mounts[v] {
					t.Errorf("%s: PC_JWT_KEYS_DIR=%s is not a mounted volume", name, v)
				}
				v = keys
			case k == "PC_GRPC_PORT":
				l.env["MANIFEST_GRPC_PORT"] = v
				v = strconv.Itoa(l.grpcPort)
			case k == "PC_ADMIN_PORT":
				l.env["MANIFEST_ADMIN_PORT"] = v
				v = strconv.Itoa(l.adminPort)
			case k == "PC_HTTP_PORT":
				l.env["MANIFEST_HTTP_PORT"] = v
				v = strconv.Itoa(freePort(t))
			case strings.HasSuffix(k, "_FILE") && v != "":
				// A file from a mounted Secret (e.g. the portal's CSRF key): here, a temp file.
				if !mounts[filepath.Dir(v)] {
					t.Errorf("%s: %s=%s is not in a mounted volume", name, k, v)
				}
				f := filepath.Join(tmp, name+"-"+strings.ToLower(k))
				if err := os.WriteFile(f, []byte("contract-test-secret-0123456789abcdef"), 0o600); err != nil {
					t.Fatal(err)
				}
				v = f
			case strings.HasSuffix(k, "_ADDRESS") && v != "":
				host := v[:strings.Index(v, ":")]
				p, ok := ports[host]
				if !ok {
					t.Errorf("%s: %s=%s names no service of this release", name, k, v)
				}
				v = fmt.Sprintf("127.0.0.1:%d", p[0])
			}
			l.env[k] = v
		}
		for _, from := range c.EnvFrom {
			if from.ConfigMapRef == nil {
				t.Fatalf("%s: envFrom other than a ConfigMap", name)
			}
			data, ok := configs[from.ConfigMapRef.Name]
			if !ok {
				t.Fatalf("%s: ConfigMap %s is not in the release", name, from.ConfigMapRef.Name)
			}
			for k, v := range data {
				set(k, v)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				set(e.Name, "from-secret")
			} else {
				set(e.Name, e.Value)
			}
		}
		flags := knownFlags(t, l.binary)
		for k := range l.env {
			if !strings.HasPrefix(k, "PC_") {
				continue
			}
			if flag := strings.ToLower(strings.TrimPrefix(k, "PC_")); !flags[flag] {
				t.Errorf("%s: the manifest sets %s but %s has no --%s flag", name, k, filepath.Base(l.binary), flag)
			}
		}
		for _, a := range l.args {
			if strings.HasPrefix(a, "--") {
				flag := strings.SplitN(strings.TrimPrefix(a, "--"), "=", 2)[0]
				if !flags[flag] {
					t.Errorf("%s: the manifest passes %s but the binary has no such flag", name, a)
				}
			}
		}
		return l
	}
	start := func(l launch) *exec.Cmd {
		cmd := exec.Command(l.binary, l.args...)
		env := []string{}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PC_") {
				env = append(env, kv)
			}
		}
		for k, v := range l.env {
			env = append(env, k+"="+v)
		}
		cmd.Env = env
		log, _ := os.Create(filepath.Join(tmp, l.name+strings.Join(l.args, "")+".log"))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		return cmd
	}

	// Migrations first, as an operator runs them.
	for _, o := range objects {
		if o.Kind != "Job" {
			continue
		}
		j := decode[batchv1.Job](t, o)
		name := strings.TrimSuffix(o.Name, "-migrate")
		l := resolve(name, j.Spec.Template.Spec, j.Spec.Template.Spec.Containers[0], true)
		cmd := start(l)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Job %s exited with %v", o.Name, err)
			}
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("Job %s did not finish", o.Name)
		}
	}

	var running []*exec.Cmd
	defer func() {
		for _, c := range running {
			_ = c.Process.Signal(syscall.SIGTERM)
			_ = c.Wait()
		}
	}()
	var launches []launch
	for _, o := range objects {
		if o.Kind != "Deployment" {
			continue
		}
		d := decode[appsv1.Deployment](t, o)
		c := d.Spec.Template.Spec.Containers[0]
		l := resolve(o.Name, d.Spec.Template.Spec, c, false)
		// The probes and the named ports must be the ports the binary serves on.
		named := map[string]int32{}
		for _, p := range c.Ports {
			named[p.Name] = p.ContainerPort
		}
		if strconv.Itoa(int(named["grpc"])) != l.env["MANIFEST_GRPC_PORT"] ||
			strconv.Itoa(int(named["admin"])) != l.env["MANIFEST_ADMIN_PORT"] {
			t.Errorf("%s: container ports %v differ from PC_GRPC_PORT/PC_ADMIN_PORT", o.Name, named)
		}
		if httpPort, ok := l.env["MANIFEST_HTTP_PORT"]; ok && strconv.Itoa(int(named["http"])) != httpPort {
			t.Errorf("%s: container port http %d differs from PC_HTTP_PORT %s", o.Name, named["http"], httpPort)
		}
		for _, probe := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
			if probe.GRPC == nil || probe.GRPC.Port != named["grpc"] {
				t.Errorf("%s: a probe does not use the gRPC port %d", o.Name, named["grpc"])
			}
		}
		// Readiness asks the health service the binary keeps for it; liveness the whole server.
		if c.ReadinessProbe.GRPC == nil || c.ReadinessProbe.GRPC.Service == nil ||
			*c.ReadinessProbe.GRPC.Service != "readiness" {
			t.Errorf("%s: the readiness probe does not ask gRPC health service \"readiness\"", o.Name)
		}
		running = append(running, start(l))
		launches = append(launches, l)
	}
	for _, l := range launches {
		if err := waitServing(l, 90*time.Second); err != nil {
			t.Errorf("%s: %v (log: %s)", l.name, err, filepath.Join(tmp, l.name+".log"))
		}
	}
	if len(launches) != 4 {
		t.Errorf("%d Deployments started, want 4 (invitation, relationship, notification, portal)", len(launches))
	}
}

// Polls like the kubelet's probes do: gRPC health SERVING and /readyz 200, within `limit`.
func waitServing(l launch, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", l.grpcPort),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.Status == healthpb.HealthCheckResponse_SERVING {
			resp, err = health.Check(ctx, &healthpb.HealthCheckRequest{Service: "readiness"})
		}
		cancel()
		if err == nil && resp.Status == healthpb.HealthCheckResponse_SERVING {
			r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", l.adminPort))
			if err == nil {
				r.Body.Close()
				if r.StatusCode == 200 {
					return nil
				}
				last = fmt.Errorf("/readyz answered %d", r.StatusCode)
			} else {
				last = err
			}
		} else if err != nil {
			last = err
		} else {
			last = fmt.Errorf("health %v", resp.Status)
		}
		time.Sleep(500 * time.Millisecond) // a probe period, not test synchronisation
	}
	return fmt.Errorf("not SERVING within %v: %v", limit, last)
}
