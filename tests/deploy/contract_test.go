// The contract between the manifests and the images (label deploy, needs the test broker, the
// test PostgreSQL and the images `make images` builds): each rendered Deployment and Job runs
// its image with podman using the manifest's settings — command, args and environment; the
// user and group id of its securityContext; a read-only root filesystem with its emptyDir
// mounts as tmpfs; its Secret and ConfigMap volumes mounted as files where the manifest mounts
// them. Only what must differ on one machine is mapped: the host network with free ports
// (PC_*_PORT and the probes' ports move together), peers' addresses to those ports, the broker
// to the local one, the database Secret to a database of the test PostgreSQL, and the Secrets'
// contents to test keys and certificates (the gRPC pairs from a local CA). Each Deployment must
// reach SERVING on gRPC health over mTLS (as a peer calls it) and 200 on /readyz (what its
// probes ask); each migrations Job must exit 0. A PC_* variable the binary has no
// flag for fails the test; so does a container that exits or never gets ready, with its log.
package deploy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
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

// podman runs podman as it works on these machines (tools/dev/podman.sh says why).
func podman(args ...string) *exec.Cmd {
	return exec.Command("podman", append([]string{"--storage-driver", "vfs", "--runtime", "runc",
		"--cgroup-manager", "cgroupfs"}, args...)...)
}

// podmanRun is `podman run` with the limits this machine allows (its defaults are refused).
func podmanRun(args ...string) *exec.Cmd {
	return podman(append([]string{"run", "--ulimit=nofile=20000:20000", "--ulimit=nproc=4096:4096"}, args...)...)
}

// The flags an image's binary knows, from its --helpfull output.
func knownFlags(t *testing.T, image string) map[string]bool {
	out, _ := podmanRun("--rm", "--network=none", image, "--helpfull").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z0-9_]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 5 {
		t.Fatalf("%s --helpfull listed no flags:\n%s", image, out)
	}
	return flags
}

type launch struct {
	name, image string
	args        []string
	env         map[string]string
	podmanArgs  []string // user, read-only root, tmpfs and file mounts
	grpcPort    int
	adminPort   int
}

func TestManifestsStartTheImages(t *testing.T) {
	brokers := requiredEnv(t, "PC_TEST_KAFKA_BROKERS")
	binDir := requiredEnv(t, "PC_BINARY_DIR")
	infraDir := requiredEnv(t, "PC_TEST_INFRA_DIR")
	pgURL := requiredEnv(t, "PC_TEST_DATABASE_URL")
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

	// What the cert-manager Certificates would hold, from a local CA (tools/dev/grpc-certs.sh);
	// the test itself calls with the "probe" pair (mTLS).
	tlsDir := filepath.Join(tmp, "grpc-tls")
	if out, err := exec.Command("bash", filepath.Join(root, "tools/dev/grpc-certs.sh"), tlsDir,
		"invitation", "relationship", "notification", "portal", "probe").CombinedOutput(); err != nil {
		t.Fatalf("grpc-certs.sh: %v\n%s", err, out)
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

	databases := map[string]string{}
	database := func(service string) string {
		if url, ok := databases[service]; ok {
			return url
		}
		name := fmt.Sprintf("contract_%s_%d", service, time.Now().UnixNano())
		if out, err := exec.Command("psql", pgURL, "-v", "ON_ERROR_STOP=1", "-c",
			"CREATE DATABASE "+name).CombinedOutput(); err != nil {
			t.Fatalf("creating %s: %v\n%s", name, err, out)
		}
		databases[service] = pgURL[:strings.LastIndex(pgURL, "/")+1] + name
		return databases[service]
	}
	flagsOf := map[string]map[string]bool{} // image → its flags (a Job and a Deployment share one)
	resolve := func(name string, spec corev1.PodSpec, c corev1.Container, isJob bool) launch {
		l := launch{name: name, image: c.Image,
			args: append(append([]string{}, c.Command...), c.Args...), env: map[string]string{},
			grpcPort: ports[name][0], adminPort: ports[name][1]}
		if out, err := podman("image", "exists", c.Image).CombinedOutput(); err != nil {
			t.Fatalf("%s: the manifest's image %s is not built (make images): %v %s", name, c.Image, err, out)
		}
		// The pod's user and group, as the kubelet would run it.
		sc := c.SecurityContext
		if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil {
			t.Fatalf("%s: the container sets no runAsUser/runAsGroup", name)
		}
		l.podmanArgs = append(l.podmanArgs, fmt.Sprintf("--user=%d:%d", *sc.RunAsUser, *sc.RunAsGroup))
		if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
			l.podmanArgs = append(l.podmanArgs, "--read-only", "--read-only-tmpfs=false")
		}
		if sc.Capabilities != nil {
			for _, drop := range sc.Capabilities.Drop {
				l.podmanArgs = append(l.podmanArgs, "--cap-drop="+string(drop))
			}
		}
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			l.podmanArgs = append(l.podmanArgs, "--security-opt=no-new-privileges")
		}
		// Volumes: emptyDir as tmpfs; Secrets and ConfigMaps as directories of files.
		volumes := map[string]corev1.Volume{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = v
		}
		mounts := map[string]string{} // mount path → host directory
		for _, m := range c.VolumeMounts {
			v, ok := volumes[m.Name]
			if !ok {
				t.Fatalf("%s: volumeMount %s names no volume", name, m.Name)
			}
			switch {
			case v.EmptyDir != nil:
				l.podmanArgs = append(l.podmanArgs, fmt.Sprintf("--tmpfs=%s:rw,mode=1777", m.MountPath))
			case v.Secret != nil || v.ConfigMap != nil:
				host := filepath.Join(tmp, "volumes", name+"-"+m.Name)
				if err := os.MkdirAll(host, 0o755); err != nil {
					t.Fatal(err)
				}
				if v.ConfigMap != nil {
					for k, data := range configs[v.ConfigMap.Name] {
						if err := os.WriteFile(filepath.Join(host, k), []byte(data), 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				mounts[m.MountPath] = host
				l.podmanArgs = append(l.podmanArgs, fmt.Sprintf("--volume=%s:%s:ro", host, m.MountPath))
			default:
				t.Fatalf("%s: volume %s is of a kind this test cannot mount", name, m.Name)
			}
		}
		set := func(k, v string) {
			switch {
			case k == "PC_KAFKA_BROKERS":
				v = brokers
			case k == "PC_KAFKA_CA_FILE" || k == "PC_KAFKA_CERT_FILE" || k == "PC_KAFKA_KEY_FILE":
				// The Strimzi Secrets (cluster CA, the service's KafkaUser) hold the test broker's
				// CA and the service's own certificate, so the broker's ACLs apply as in a cluster.
				// Migration Jobs never talk to Kafka and mount no Kafka Secret.
				host, ok := mounts[filepath.Dir(v)]
				if !ok {
					if !isJob {
						t.Errorf("%s: %s=%s is not in a mounted volume", name, k, v)
					}
					break
				}
				certs := requiredEnv(t, "PC_TEST_KAFKA_CERTS_DIR")
				from := map[string]string{"PC_KAFKA_CA_FILE": filepath.Join(certs, "ca.crt"),
					"PC_KAFKA_CERT_FILE": filepath.Join(certs, name+".crt"),
					"PC_KAFKA_KEY_FILE":  filepath.Join(certs, name+".key")}[k]
				data, err := os.ReadFile(from)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(host, filepath.Base(v)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			case k == "PC_DATABASE_URL":
				v = database(name)
			case k == "PC_JWT_KEYS_DIR":
				host, ok := mounts[v]
				if !ok {
					t.Errorf("%s: PC_JWT_KEYS_DIR=%s is not a mounted volume", name, v)
					break
				}
				// The public keys the Secret would hold.
				entries, _ := os.ReadDir(keys)
				for _, e := range entries {
					data, _ := os.ReadFile(filepath.Join(keys, e.Name()))
					if err := os.WriteFile(filepath.Join(host, e.Name()), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			case k == "PC_GRPC_PORT":
				l.env["MANIFEST_GRPC_PORT"] = v
				v = strconv.Itoa(l.grpcPort)
			case k == "PC_ADMIN_PORT":
				l.env["MANIFEST_ADMIN_PORT"] = v
				v = strconv.Itoa(l.adminPort)
			case k == "PC_HTTP_PORT":
				l.env["MANIFEST_HTTP_PORT"] = v
				v = strconv.Itoa(freePort(t))
			case strings.HasPrefix(k, "PC_GRPC_TLS_") && strings.HasSuffix(k, "_FILE") && v != "":
				// The cert-manager Secret's files (tls.crt, tls.key, ca.crt): here, this service's
				// pair and the CA from a local CA (tools/dev/grpc-certs.sh), written where the
				// manifest mounts the Secret.
				host, ok := mounts[filepath.Dir(v)]
				if !ok {
					t.Errorf("%s: %s=%s is not in a mounted volume", name, k, v)
					break
				}
				from, ok := map[string]string{"tls.crt": filepath.Join(tlsDir, name+".pem"),
					"tls.key": filepath.Join(tlsDir, name+".key"),
					"ca.crt":  filepath.Join(tlsDir, "ca.pem")}[filepath.Base(v)]
				if !ok {
					t.Errorf("%s: %s=%s is no file of a cert-manager Secret", name, k, v)
					break
				}
				data, err := os.ReadFile(from)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(host, filepath.Base(v)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			case strings.HasSuffix(k, "_FILE") && v != "":
				// A file from a mounted Secret (e.g. the portal's CSRF key): a test secret there.
				host, ok := mounts[filepath.Dir(v)]
				if !ok {
					t.Errorf("%s: %s=%s is not in a mounted volume", name, k, v)
					break
				}
				if err := os.WriteFile(filepath.Join(host, filepath.Base(v)),
					[]byte("contract-test-secret-0123456789abcdef"), 0o644); err != nil {
					t.Fatal(err)
				}
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
		raw := map[string]string{}
		for _, from := range c.EnvFrom {
			if from.ConfigMapRef == nil {
				t.Fatalf("%s: envFrom other than a ConfigMap", name)
			}
			data, ok := configs[from.ConfigMapRef.Name]
			if !ok {
				t.Fatalf("%s: ConfigMap %s is not in the release", name, from.ConfigMapRef.Name)
			}
			for k, v := range data {
				raw[k] = v
			}
		}
		// `env` overrides `envFrom`, as in the kubelet (e.g. a Job switching TLS off).
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				raw[e.Name] = "from-secret"
			} else if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
				raw[e.Name] = name + "-0" // the downward API's pod name
			} else {
				raw[e.Name] = e.Value
			}
		}
		for k, v := range raw {
			set(k, v)
		}
		flags, ok := flagsOf[l.image]
		if !ok {
			flags = knownFlags(t, l.image)
			flagsOf[l.image] = flags
		}
		for k := range l.env {
			if !strings.HasPrefix(k, "PC_") {
				continue
			}
			if flag := strings.ToLower(strings.TrimPrefix(k, "PC_")); !flags[flag] {
				t.Errorf("%s: the manifest sets %s but %s has no --%s flag", name, k, l.image, flag)
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
	logPath := func(l launch) string { return filepath.Join(tmp, l.name+strings.Join(l.args, "")+".log") }
	start := func(l launch) (*exec.Cmd, string) {
		container := fmt.Sprintf("pc-contract-%s-%d", l.name, time.Now().UnixNano())
		args := []string{"--rm", "--name", container, "--network=host"}
		args = append(args, l.podmanArgs...)
		for k, v := range l.env {
			args = append(args, "--env="+k+"="+v)
		}
		args = append(args, l.image)
		args = append(args, l.args...)
		cmd := podmanRun(args...)
		log, _ := os.Create(logPath(l))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		return cmd, container
	}
	showLog := func(l launch) string {
		data, _ := os.ReadFile(logPath(l))
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 30 {
			lines = lines[len(lines)-30:]
		}
		return strings.Join(lines, "\n")
	}

	// Migrations first, as an operator runs them.
	for _, o := range objects {
		if o.Kind != "Job" {
			continue
		}
		j := decode[batchv1.Job](t, o)
		name := strings.TrimSuffix(o.Name, "-migrate")
		l := resolve(name, j.Spec.Template.Spec, j.Spec.Template.Spec.Containers[0], true)
		cmd, container := start(l)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Job %s exited with %v; its log:\n%s", o.Name, err, showLog(l))
			}
		case <-time.After(120 * time.Second):
			_ = podman("kill", container).Run()
			t.Errorf("Job %s did not finish; its log:\n%s", o.Name, showLog(l))
		}
	}

	type runningContainer struct {
		cmd  *exec.Cmd
		name string
	}
	var running []runningContainer
	defer func() {
		for _, c := range running {
			_ = podman("stop", "--time=20", c.name).Run() // SIGTERM, as the kubelet sends
			_ = c.cmd.Wait()
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
		// Probes ask the admin port (the gRPC port is mTLS): readiness /readyz, the others /healthz.
		for _, probe := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
			if probe.HTTPGet == nil || probe.HTTPGet.Port.String() != "admin" || named["admin"] == 0 {
				t.Errorf("%s: a probe does not use the admin port", o.Name)
			}
		}
		if c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: the readiness probe does not ask /readyz", o.Name)
		}
		cmd, container := start(l)
		running = append(running, runningContainer{cmd, container})
		launches = append(launches, l)
	}
	for _, l := range launches {
		if err := waitServing(l, tlsDir, 90*time.Second); err != nil {
			t.Errorf("%s: %v; its log:\n%s", l.name, err, showLog(l))
		}
	}
	if len(launches) != 4 {
		t.Errorf("%d Deployments started, want 4 (invitation, relationship, notification, portal)", len(launches))
	}
}

// Polls gRPC health SERVING (over mTLS, as a peer service would call) and /readyz 200 (what
// the kubelet's probes ask), within `limit`.
func waitServing(l launch, tlsDir string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return fmt.Errorf("no CA in %s", tlsDir)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "probe.pem"), filepath.Join(tlsDir, "probe.key"))
	if err != nil {
		return err
	}
	creds := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}})
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", l.grpcPort), grpc.WithTransportCredentials(creds))
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
