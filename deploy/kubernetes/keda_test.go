package kubernetes

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/labelflow/labelflow/config"
)

// kedaSchemas are the openAPIV3Schema of KEDA's CRDs in testdata, by kind.
func kedaSchemas(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range documents(t, "testdata/keda-crds.yaml") {
		var crd struct {
			Spec struct {
				Names    struct{ Kind string }
				Versions []struct {
					Name   string
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			t.Fatal(err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Name == "v1alpha1" {
				out[crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	if out["ScaledObject"] == nil || out["TriggerAuthentication"] == nil {
		t.Fatal("testdata/keda-crds.yaml lacks the v1alpha1 ScaledObject or TriggerAuthentication schema")
	}
	return out
}

// temporalScaler is what KEDA's temporal scaler reads (testdata/keda-temporal-scaler.yaml).
type temporalScaler struct {
	Metadata   []string `json:"metadata"`
	AuthParams []string `json:"authParams"`
	Required   []string `json:"required"`
	QueueTypes []string `json:"queueTypes"`
}

func loadTemporalScaler(t *testing.T) temporalScaler {
	t.Helper()
	b, err := os.ReadFile("testdata/keda-temporal-scaler.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s temporalScaler
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKEDAResourcesMatchTheirSchemas(t *testing.T) {
	m := load(t)
	schemas := kedaSchemas(t)
	for i, so := range m.scaled {
		for _, err := range checkSchema("ScaledObject", so, schemas["ScaledObject"]) {
			t.Errorf("ScaledObject %d: %v", i, err)
		}
		spec := so["spec"].(map[string]any)
		// The CRD's CEL rule, which checkSchema does not evaluate.
		if min, max := spec["minReplicaCount"], spec["maxReplicaCount"]; min != nil && max != nil && min.(float64) > max.(float64) {
			t.Errorf("ScaledObject %d: minReplicaCount %v is above maxReplicaCount %v", i, min, max)
		}
	}
	for name, ta := range m.triggerAuths {
		for _, err := range checkSchema("TriggerAuthentication", ta, schemas["TriggerAuthentication"]) {
			t.Errorf("TriggerAuthentication %s: %v", name, err)
		}
	}
}

// TestTemporalScalers: one scaler per worker Deployment, on its own task queue and task type,
// reaching the Temporal the processes reach, the way they reach it.
func TestTemporalScalers(t *testing.T) {
	m := load(t)
	scaler := loadTemporalScaler(t)
	settings := m.configMaps["labelflow"].Data
	for _, d := range workerDeployments(m) {
		so := scaledObjectFor(m, d.name)
		if so == nil {
			t.Errorf("Deployment %s (role %s) has no ScaledObject", d.name, d.role)
			continue
		}
		triggers := so["spec"].(map[string]any)["triggers"].([]any)
		if len(triggers) != 1 {
			t.Errorf("ScaledObject %s: %d triggers, want the one temporal trigger", d.name, len(triggers))
			continue
		}
		trig := triggers[0].(map[string]any)
		if trig["type"] != "temporal" {
			t.Errorf("ScaledObject %s: trigger type %v, want temporal", d.name, trig["type"])
			continue
		}
		checkTemporalTrigger(t, m, scaler, d, trig, settings)
	}
}

func checkTemporalTrigger(t *testing.T, m *manifests, scaler temporalScaler, d worker, trig map[string]any, settings map[string]string) {
	meta := stringMap(trig["metadata"])
	for key := range meta {
		if !slices.Contains(scaler.Metadata, key) {
			t.Errorf("ScaledObject %s: the temporal scaler reads no metadata %q", d.name, key)
		}
	}
	for _, key := range scaler.Required {
		if meta[key] == "" {
			t.Errorf("ScaledObject %s: the temporal scaler needs %q", d.name, key)
		}
	}
	want := map[string]string{
		"endpoint":   setting(settings, "LABELFLOW_TEMPORAL_ADDRESS"),
		"namespace":  setting(settings, "LABELFLOW_TEMPORAL_NAMESPACE"),
		"taskQueue":  setting(settings, d.queueSetting),
		"queueTypes": d.queueType,
	}
	for key, v := range want {
		if meta[key] != v {
			t.Errorf("ScaledObject %s: %s = %q, want %q (what the %s workers use)", d.name, key, meta[key], v, d.role)
		}
	}
	for _, qt := range strings.Split(meta["queueTypes"], ",") {
		if !slices.Contains(scaler.QueueTypes, strings.TrimSpace(qt)) {
			t.Errorf("ScaledObject %s: queue type %q is none of %v", d.name, qt, scaler.QueueTypes)
		}
	}
	// The scaler speaks TLS unless told otherwise; the processes only when told to.
	scalerTLS := meta["enableTLS"] != "false"
	if processTLS := setting(settings, "LABELFLOW_TEMPORAL_TLS") == "true"; scalerTLS != processTLS {
		t.Errorf("ScaledObject %s: the scaler's TLS is %v, the processes' %v", d.name, scalerTLS, processTLS)
	}
	checkAuthenticationRef(t, m, scaler, d.name, trig, settings)
}

// checkAuthenticationRef: with a client certificate configured, the scaler presents one from an
// existing TriggerAuthentication whose parameters the scaler takes and whose Secrets exist.
func checkAuthenticationRef(t *testing.T, m *manifests, scaler temporalScaler, name string, trig map[string]any, settings map[string]string) {
	ref, _ := trig["authenticationRef"].(map[string]any)
	if ref == nil {
		if settings["LABELFLOW_TEMPORAL_TLS_CERT"] != "" {
			t.Errorf("ScaledObject %s: the processes present a client certificate and the scaler has no authenticationRef", name)
		}
		return
	}
	ta, ok := m.triggerAuths[ref["name"].(string)]
	if !ok {
		t.Errorf("ScaledObject %s: TriggerAuthentication %v does not exist", name, ref["name"])
		return
	}
	params := map[string]bool{}
	for _, r := range ta["spec"].(map[string]any)["secretTargetRef"].([]any) {
		r := stringMap(r)
		params[r["parameter"]] = true
		if !slices.Contains(scaler.AuthParams, r["parameter"]) {
			t.Errorf("TriggerAuthentication %v: the temporal scaler takes no parameter %q", ref["name"], r["parameter"])
		}
		if _, ok := m.secrets[r["name"]].StringData[r["key"]]; !ok {
			t.Errorf("TriggerAuthentication %v: Secret %s has no key %s", ref["name"], r["name"], r["key"])
		}
	}
	if settings["LABELFLOW_TEMPORAL_TLS_CERT"] != "" && !(params["cert"] && params["key"]) {
		t.Errorf("TriggerAuthentication %v: the processes present a client certificate, the scaler not", ref["name"])
	}
}

// worker is a worker Deployment and the task queue its role polls.
type worker struct {
	name, role, queueSetting, queueType string
}

func workerDeployments(m *manifests) []worker {
	var out []worker
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				switch {
				case e.Name != "LABELFLOW_WORKER_ROLE":
				case e.Value == "workflows":
					out = append(out, worker{d.Name, e.Value, "LABELFLOW_WORKFLOW_TASK_QUEUE", "workflow"})
				case e.Value == "activities":
					out = append(out, worker{d.Name, e.Value, "LABELFLOW_ACTIVITY_TASK_QUEUE", "activity"})
				}
			}
		}
	}
	return out
}

func scaledObjectFor(m *manifests, deployment string) map[string]any {
	for _, so := range m.scaled {
		ref := so["spec"].(map[string]any)["scaleTargetRef"].(map[string]any)
		if ref["name"] == deployment {
			return so
		}
	}
	return nil
}

// setting is the ConfigMap's value of a setting, or LabelFlow's default for it.
func setting(data map[string]string, name string) string {
	if v, ok := data[name]; ok {
		return v
	}
	return configDefault(name)
}

func configDefault(name string) string {
	var find func(t reflect.Type) (string, bool)
	find = func(t reflect.Type) (string, bool) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				if v, ok := find(f.Type); ok {
					return v, true
				}
			}
			if f.Tag.Get("envconfig") == name {
				return f.Tag.Get("default"), true
			}
		}
		return "", false
	}
	v, _ := find(reflect.TypeOf(config.Config{}))
	return v
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		s, _ := x.(string)
		out[k] = s
	}
	return out
}
