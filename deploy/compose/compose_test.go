// Package compose holds no code: its tests check compose.yaml without Docker, by reading it as
// Compose would and holding each LabelFlow service's settings to LabelFlow's own checks.
package compose

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/image"
)

type service struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     []string          `yaml:"env_file"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	User     string   `yaml:"user"`
	ReadOnly bool     `yaml:"read_only"`
	CapDrop  []string `yaml:"cap_drop"`
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
}

// labelflowServices are the services that run the labelflow image, and the command each runs.
var labelflowServices = map[string]string{
	"setup": "setup", "workflow-worker": "worker", "activity-worker": "worker", "gateway": "gateway", "codec-server": "codec-server",
}

func load(t *testing.T) (composeFile, []byte) {
	t.Helper()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Decoded as Compose does: anchors and merge keys (<<) resolved.
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c, b
}

func TestServicesAndImages(t *testing.T) {
	c, _ := load(t)
	images := map[string][]string{
		"postgresql":  {"postgres:"},
		"temporal":    {"temporalio/auto-setup:", "temporalio/server:"},
		"temporal-ui": {"temporalio/ui:"},
		"s3":          {"versity/versitygw:", "minio/minio:"},
	}
	for name := range labelflowServices {
		images[name] = []string{"labelflow:"}
	}
	for name, prefixes := range images {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s.Image, p) }) {
			t.Errorf("service %s: image %q, want one of %v", name, s.Image, prefixes)
		}
	}
}

func TestLabelFlowServicesRunLockedDown(t *testing.T) {
	c, _ := load(t)
	user := fmt.Sprintf("%d:%d", image.NonRootUser, image.NonRootUser)
	for name, command := range labelflowServices {
		s := c.Services[name]
		if len(s.Command) == 0 || s.Command[0] != command {
			t.Errorf("service %s: command %v, want labelflow %s", name, s.Command, command)
		}
		if s.User != user || !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("service %s: user %q, read_only %v, cap_drop %v; want %s, true, [ALL]", name, s.User, s.ReadOnly, s.CapDrop, user)
		}
		if s.Environment["LABELFLOW_STACK"] != config.StackProduction {
			t.Errorf("service %s: LABELFLOW_STACK=%q, want production", name, s.Environment["LABELFLOW_STACK"])
		}
	}
	roles := map[string]string{"workflow-worker": "workflows", "activity-worker": "activities"}
	for name, role := range roles {
		if got := c.Services[name].Environment["LABELFLOW_WORKER_ROLE"]; got != role {
			t.Errorf("service %s: LABELFLOW_WORKER_ROLE=%q, want %s", name, got, role)
		}
	}
}

// TestStartOrder: PostgreSQL is healthy before Temporal starts, setup runs once Temporal is up,
// and the workers, the gateway and the codec server start only after setup succeeded.
func TestStartOrder(t *testing.T) {
	c, _ := load(t)
	want := map[string]map[string]string{
		"temporal":        {"postgresql": "service_healthy"},
		"setup":           {"temporal": "service_started"},
		"workflow-worker": {"setup": "service_completed_successfully"},
		"activity-worker": {"setup": "service_completed_successfully"},
		"gateway":         {"setup": "service_completed_successfully"},
		"codec-server":    {"setup": "service_completed_successfully"},
	}
	for name, deps := range want {
		for dep, cond := range deps {
			if got := c.Services[name].DependsOn[dep].Condition; got != cond {
				t.Errorf("service %s depends on %s with %q, want %q", name, dep, got, cond)
			}
		}
	}
	if order, err := startOrder(c); err != nil {
		t.Error(err)
	} else if slices.Index(order, "postgresql") > slices.Index(order, "setup") || slices.Index(order, "setup") > slices.Index(order, "gateway") {
		t.Errorf("start order %v", order)
	}
}

// startOrder sorts the services so that each comes after what it depends on, as Compose starts
// them; a dependency on a missing service or a cycle is an error.
func startOrder(c composeFile) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		s, ok := c.Services[name]
		switch {
		case !ok:
			return &orderError{"depends on missing service " + name, path}
		case state[name] == 1:
			return &orderError{"cycle", append(path, name)}
		case state[name] == 2:
			return nil
		}
		state[name] = 1
		for _, dep := range sortedKeys(s.DependsOn) {
			if err := visit(dep, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, name)
		return nil
	}
	for _, name := range sortedKeys(c.Services) {
		if err := visit(name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

type orderError struct {
	what string
	path []string
}

func (e *orderError) Error() string { return e.what + ": " + strings.Join(e.path, " -> ") }

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

// TestEnvNamesAreSettings: every LABELFLOW_ name in compose.yaml and the env file example is a
// setting, and every other name of the example is one compose.yaml interpolates.
func TestEnvNamesAreSettings(t *testing.T) {
	_, raw := load(t)
	settings := map[string]bool{}
	for _, v := range config.Variables() {
		settings[v] = true
	}
	for _, name := range regexp.MustCompile(`LABELFLOW_[A-Z0-9_]+`).FindAllString(string(raw), -1) {
		if !settings[name] && name != "LABELFLOW_VERSION" { // the image tag, for compose only
			t.Errorf("compose.yaml: %s is not a LabelFlow setting", name)
		}
	}
	interpolated := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}`).FindAllStringSubmatch(string(raw), -1) {
		interpolated[m[1]] = true
		if m[2] == "" || strings.HasPrefix(m[2], ":?") {
			if _, ok := envExample(t)[m[1]]; !ok {
				t.Errorf("compose.yaml needs ${%s}, which labelflow.env.example does not give", m[1])
			}
		}
	}
	for name := range envExample(t) {
		if !settings[name] && !interpolated[name] {
			t.Errorf("labelflow.env.example: %s is neither a LabelFlow setting nor used by compose.yaml", name)
		}
	}
}

// TestSettingsPassLabelFlowsChecks loads each LabelFlow service's settings (the env file example
// and its environment) as the process would, and reads its clients file.
func TestSettingsPassLabelFlowsChecks(t *testing.T) {
	c, _ := load(t)
	for name := range labelflowServices {
		t.Run(name, func(t *testing.T) {
			s := c.Services[name]
			if !slices.Equal(s.EnvFile, []string{"labelflow.env"}) {
				t.Errorf("env_file %v, want [labelflow.env] (from labelflow.env.example)", s.EnvFile)
			}
			env := envExample(t)
			for k, v := range s.Environment {
				env[k] = v
			}
			setOnly(t, env)
			cfg, err := config.Load()
			if err != nil {
				t.Fatal(err)
			}
			checkClients(t, cfg)
		})
	}
}

func checkClients(t *testing.T, cfg config.Config) {
	const mounted = "/etc/labelflow/clients.yaml"
	if cfg.Clients != mounted {
		t.Fatalf("LABELFLOW_CLIENTS=%q, want %s (mounted from ./clients.yaml)", cfg.Clients, mounted)
	}
	b, err := os.ReadFile("clients.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clients.Parse("clients.yaml", b, cfg.StoreBucket); err != nil {
		t.Error(err)
	}
}

// setOnly makes env the process's whole LABELFLOW_ environment for the test.
func setOnly(t *testing.T, env map[string]string) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "LABELFLOW_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// envExample reads labelflow.env.example: NAME=value lines, # comments.
func envExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("labelflow.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("labelflow.env.example: %q is not NAME=value", line)
		}
		out[name] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
