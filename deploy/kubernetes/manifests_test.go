// Package kubernetes holds no code: its tests check the manifests in this directory without a
// cluster or network, decoding each document strictly into the Kubernetes API types, KEDA's
// resources against KEDA's published schemas, and every setting against LabelFlow's own.
package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/image"
)

// manifests are the documents of every file here, decoded.
type manifests struct {
	deployments  []appsv1.Deployment
	jobs         []batchv1.Job
	services     []corev1.Service
	configMaps   map[string]corev1.ConfigMap
	secrets      map[string]corev1.Secret
	pdbs         []policyv1.PodDisruptionBudget
	scaled       []map[string]any // keda.sh/v1alpha1 ScaledObject
	triggerAuths map[string]map[string]any
}

// pod is a pod template of a Deployment or a Job.
type pod struct {
	owner string
	spec  corev1.PodTemplateSpec
}

func (m *manifests) pods() []pod {
	var out []pod
	for _, d := range m.deployments {
		out = append(out, pod{"Deployment " + d.Name, d.Spec.Template})
	}
	for _, j := range m.jobs {
		out = append(out, pod{"Job " + j.Name, j.Spec.Template})
	}
	return out
}

func manifestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
}

func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{configMaps: map[string]corev1.ConfigMap{}, secrets: map[string]corev1.Secret{}, triggerAuths: map[string]map[string]any{}}
	for _, file := range manifestFiles(t) {
		for i, doc := range documents(t, file) {
			if err := m.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", file, i+1, err)
			}
		}
	}
	if len(m.deployments) == 0 || len(m.configMaps) == 0 {
		t.Fatal("no Deployment or ConfigMap found")
	}
	return m
}

func documents(t *testing.T, file string) [][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(doc []byte) []byte { return commentLine.ReplaceAll(doc, nil) }

// add decodes one document strictly: an unknown or misspelled field, a duplicate key or a value
// of the wrong type fails, where kubectl apply might drop it or only warn.
func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return decodeInto(doc, &m.deployments)
	case "batch/v1 Job":
		return decodeInto(doc, &m.jobs)
	case "v1 Service":
		return decodeInto(doc, &m.services)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(doc, &m.pdbs)
	case "v1 ConfigMap":
		var c corev1.ConfigMap
		err := yaml.UnmarshalStrict(doc, &c)
		m.configMaps[c.Name] = c
		return err
	case "v1 Secret":
		var s corev1.Secret
		err := yaml.UnmarshalStrict(doc, &s)
		m.secrets[s.Name] = s
		return err
	case "keda.sh/v1alpha1 ScaledObject":
		return decodeInto(doc, &m.scaled)
	case "keda.sh/v1alpha1 TriggerAuthentication":
		var ta map[string]any
		err := yaml.UnmarshalStrict(doc, &ta)
		name, _ := ta["metadata"].(map[string]any)["name"].(string)
		m.triggerAuths[name] = ta
		return err
	}
	return errors.New("unexpected kind " + tm.APIVersion + " " + tm.Kind + ": teach the test to check it")
}

func decodeInto[T any](doc []byte, list *[]T) error {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := load(t)
	if len(m.scaled) == 0 || len(m.pdbs) == 0 {
		t.Errorf("%d ScaledObjects and %d PodDisruptionBudgets, want some of each", len(m.scaled), len(m.pdbs))
	}
}

// TestPodsAreLockedDown: every pod runs as the image's non-root user, on a read-only root file
// system, without privilege escalation or capabilities, with resources set.
func TestPodsAreLockedDown(t *testing.T) {
	for _, p := range load(t).pods() {
		sc := p.spec.Spec.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: runAsNonRoot is not set", p.owner)
		}
		if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != image.NonRootUser {
			t.Errorf("%s: runAsUser is not the image's user %d", p.owner, image.NonRootUser)
		}
		for _, c := range p.spec.Spec.Containers {
			checkContainerLockedDown(t, p.owner+" container "+c.Name, c)
		}
	}
}

func checkContainerLockedDown(t *testing.T, where string, c corev1.Container) {
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s: no securityContext", where)
		return
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: the root file system is writable", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: privilege escalation is allowed", where)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities are not all dropped", where)
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		t.Errorf("%s: resources need cpu and memory requests and a memory limit, got %v", where, c.Resources)
	}
	if !strings.HasPrefix(c.Image, "labelflow:") {
		t.Errorf("%s: image %q is not labelflow's (kustomization.yaml rewrites labelflow)", where, c.Image)
	}
}

// TestDeploymentsHaveProbes: liveness and readiness on a port the container declares.
func TestDeploymentsHaveProbes(t *testing.T) {
	for _, d := range load(t).deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for kind, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if probe == nil || probe.HTTPGet == nil {
					t.Errorf("%s: no HTTP %s probe", d.Name, kind)
					continue
				}
				if !declaresPort(c, probe.HTTPGet.Port) {
					t.Errorf("%s: %s probe port %s is not a port of the container", d.Name, kind, probe.HTTPGet.Port.String())
				}
			}
		}
	}
}

func declaresPort(c corev1.Container, port intstr.IntOrString) bool {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return true
		}
	}
	return false
}

// TestEnvNamesAreSettings: every variable the manifests set is a LabelFlow setting, or a webhook
// secret a delivery profile names with {env: NAME}.
func TestEnvNamesAreSettings(t *testing.T) {
	m := load(t)
	settings := map[string]bool{}
	for _, v := range config.Variables() {
		settings[v] = true
	}
	referenced := envReferences(m)
	for name, c := range m.configMaps {
		for key := range c.Data {
			if !settings[key] {
				t.Errorf("ConfigMap %s: %s is not a LabelFlow setting", name, key)
			}
		}
	}
	for _, p := range m.pods() {
		for _, c := range p.spec.Spec.Containers {
			for _, e := range c.Env {
				if !settings[e.Name] {
					t.Errorf("%s: env %s is not a LabelFlow setting", p.owner, e.Name)
				}
			}
			for _, name := range envFromSecrets(c) {
				for key := range m.secrets[name].StringData {
					if !settings[key] && !referenced[key] {
						t.Errorf("Secret %s: %s is neither a LabelFlow setting nor named by a delivery profile", name, key)
					}
				}
			}
		}
	}
}

var envReference = regexp.MustCompile(`\{\s*env:\s*([A-Za-z0-9_]+)\s*\}`)

func envReferences(m *manifests) map[string]bool {
	out := map[string]bool{}
	for _, s := range m.secrets {
		for _, body := range s.StringData {
			for _, match := range envReference.FindAllStringSubmatch(body, -1) {
				out[match[1]] = true
			}
		}
	}
	return out
}

func envFromSecrets(c corev1.Container) []string {
	var out []string
	for _, src := range c.EnvFrom {
		if src.SecretRef != nil {
			out = append(out, src.SecretRef.Name)
		}
	}
	return out
}

// TestReferencesResolve: the ConfigMaps, Secrets and keys pods use exist, and every file a setting
// names is mounted where the setting says.
func TestReferencesResolve(t *testing.T) {
	m := load(t)
	for _, p := range m.pods() {
		for _, c := range p.spec.Spec.Containers {
			where := p.owner + " container " + c.Name
			files := mountedFiles(t, m, where, p.spec.Spec, c)
			for _, src := range c.EnvFrom {
				switch {
				case src.ConfigMapRef != nil:
					cm, ok := m.configMaps[src.ConfigMapRef.Name]
					if !ok {
						t.Errorf("%s: ConfigMap %s does not exist", where, src.ConfigMapRef.Name)
					}
					checkFileSettings(t, where, cm, files)
				case src.SecretRef != nil:
					if _, ok := m.secrets[src.SecretRef.Name]; !ok {
						t.Errorf("%s: Secret %s does not exist", where, src.SecretRef.Name)
					}
				}
			}
		}
	}
}

// checkFileSettings: a setting whose value is a path under a mount must name a mounted file.
func checkFileSettings(t *testing.T, where string, cm corev1.ConfigMap, files map[string]bool) {
	for key, value := range cm.Data {
		if strings.HasPrefix(value, "/etc/labelflow/") && !files[value] {
			t.Errorf("%s: %s=%s is not a file of its mounts", where, key, value)
		}
	}
}

// mountedFiles lists the files the container sees from Secret and projected volumes.
func mountedFiles(t *testing.T, m *manifests, where string, spec corev1.PodSpec, c corev1.Container) map[string]bool {
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	files := map[string]bool{}
	for _, mount := range c.VolumeMounts {
		v, ok := volumes[mount.Name]
		if !ok {
			t.Errorf("%s: volume %s is mounted but not declared", where, mount.Name)
			continue
		}
		for _, src := range secretSources(v) {
			for _, f := range secretFiles(t, m, where, src) {
				files[mount.MountPath+"/"+f] = true
			}
		}
	}
	return files
}

func secretSources(v corev1.Volume) []corev1.SecretProjection {
	if v.Secret != nil {
		return []corev1.SecretProjection{{LocalObjectReference: corev1.LocalObjectReference{Name: v.Secret.SecretName}, Items: v.Secret.Items}}
	}
	var out []corev1.SecretProjection
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.Secret != nil {
				out = append(out, *s.Secret)
			}
		}
	}
	return out
}

func secretFiles(t *testing.T, m *manifests, where string, src corev1.SecretProjection) []string {
	s, ok := m.secrets[src.Name]
	if !ok {
		t.Errorf("%s: Secret %s does not exist", where, src.Name)
		return nil
	}
	if len(src.Items) == 0 {
		return sortedKeys(s.StringData)
	}
	var out []string
	for _, item := range src.Items {
		if _, ok := s.StringData[item.Key]; !ok {
			t.Errorf("%s: Secret %s has no key %s", where, src.Name, item.Key)
		}
		out = append(out, item.Path)
	}
	return out
}

// TestPodDisruptionBudgets: every Deployment has one, and it selects that Deployment's pods.
func TestPodDisruptionBudgets(t *testing.T) {
	m := load(t)
	for _, d := range m.deployments {
		n := 0
		for _, pdb := range m.pdbs {
			if pdb.Spec.Selector != nil && reflect.DeepEqual(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Deployment %s: %d PodDisruptionBudgets select its pods, want 1", d.Name, n)
		}
	}
}

// TestKustomizationListsEveryManifest: kubectl apply -k applies every file here.
func TestKustomizationListsEveryManifest(t *testing.T) {
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if want := manifestFiles(t); !slices.Equal(got, want) {
		t.Errorf("kustomization resources = %v, want every manifest %v", got, want)
	}
	if len(k.Images) != 1 || k.Images[0].Name != "labelflow" {
		t.Errorf("kustomization images = %+v, want one rewriting labelflow", k.Images)
	}
}
