package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/wgkey"
)

func pubKey(t *testing.T) string {
	t.Helper()
	_, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}

// TestBlackBox drives every peers endpoint of the built binary with the
// contract's example bodies, then kills it with SIGKILL and checks that
// everything it acknowledged is still there after a restart.
func TestBlackBox(t *testing.T) {
	schemas := seedSchemas(t)
	dir := t.TempDir()
	s := start(t, dir)
	if strings.Contains(s.log.String(), s.token) {
		t.Fatal("the admin token appears in the log")
	}

	// Peers come in through POST /api/peers: one with a generated key pair,
	// one bringing its own.
	gen := obj(s.call("POST", "/api/peers", map[string]any{"name": "stage-host-1"}, 200))
	if _, err := wgkey.Parse(gen["wg_private_key"].(string)); err != nil {
		t.Fatalf("generated private key: %v", err)
	}
	if cfg, _ := gen["client_config"].(string); !strings.Contains(cfg, "[Interface]") || !strings.Contains(cfg, "[Peer]") {
		t.Fatalf("client config = %q", cfg)
	}
	s.checkSchema(schemas, "Retrieve a Peer", gen)
	db := obj(s.call("POST", "/api/peers", map[string]any{"name": "db-1", "wg_pub_key": pubKey(t)}, 200))
	if _, has := db["wg_private_key"]; has {
		t.Fatal("private key returned for a peer that brought its own key")
	}
	id, dbID := gen["id"].(string), db["id"].(string)
	if len(id) != 20 || gen["dns_label"] != "stage-host-1.corp.test" || gen["ip"] != "100.64.0.2" {
		t.Fatalf("created peer = %v", gen)
	}
	got := obj(s.call("GET", "/api/peers/"+id, nil, 200))
	if _, has := got["wg_private_key"]; has {
		t.Fatal("private key readable after creation")
	}
	s.checkSchema(schemas, "Retrieve a Peer", got)

	// Groups and a policy: stage-host-1 may reach db-1 on tcp/5432.
	grp := obj(s.call("POST", "/api/groups", map[string]any{"name": "devs", "peers": []string{id}}, 200))
	dbs := obj(s.call("POST", "/api/groups", map[string]any{"name": "dbs", "peers": []string{dbID}}, 200))
	pol := obj(s.call("POST", "/api/policies", map[string]any{"name": "devs to dbs", "enabled": true, "rules": []any{
		map[string]any{"name": "pg", "enabled": true, "action": "accept", "bidirectional": false, "protocol": "tcp",
			"ports": []string{"5432"}, "sources": []string{grp["id"].(string)}, "destinations": []string{dbs["id"].(string)}}}}, 200))
	acc := arr(s.call("GET", "/api/peers/"+id+"/accessible-peers", nil, 200))
	s.checkSchema(schemas, "List accessible Peers", acc)
	if len(acc) != 1 || obj(acc[0])["id"] != dbID {
		t.Fatalf("accessible peers of stage-host-1 = %v, want db-1", acc)
	}
	if back := arr(s.call("GET", "/api/peers/"+dbID+"/accessible-peers", nil, 200)); len(back) != 0 {
		t.Fatalf("db-1 reaches %v over a one-way rule", back)
	}

	list := arr(s.call("GET", "/api/peers", nil, 200))
	s.checkSchema(schemas, "List all Peers", list)
	if len(list) != 2 || obj(list[1])["accessible_peers_count"] != 1.0 {
		t.Fatalf("list = %v", list)
	}
	if l := arr(s.call("GET", "/api/peers?name=stage", nil, 200)); len(l) != 1 || obj(l[0])["id"] != id {
		t.Fatalf("filter name=stage = %v", l)
	}
	if l := arr(s.call("GET", "/api/peers?ip=100.64.0.3", nil, 200)); len(l) != 1 || obj(l[0])["id"] != dbID {
		t.Fatalf("filter ip = %v", l)
	}

	// The contract's PUT example.
	put := obj(s.call("PUT", "/api/peers/"+dbID, map[string]any{"name": "stage-host-2", "ssh_enabled": true,
		"login_expiration_enabled": false, "inactivity_expiration_enabled": false, "approval_required": false, "ip": "100.64.0.15"}, 200))
	s.checkSchema(schemas, "Update a Peer", put)
	if put["ip"] != "100.64.0.15" || put["name"] != "stage-host-2" || put["ssh_enabled"] != true {
		t.Fatalf("updated peer = %v", put)
	}

	// The contract's temporary-access example, with a real key.
	tmp := obj(s.call("POST", "/api/peers/"+dbID+"/temporary-access", map[string]any{
		"name": "temp-host-1", "wg_pub_key": pubKey(t), "rules": []string{"tcp/80"}}, 200))
	s.checkSchema(schemas, "Create a Temporary Access Peer", tmp)
	if tacc := arr(s.call("GET", "/api/peers/"+tmp["id"].(string)+"/accessible-peers", nil, 200)); len(tacc) != 1 || obj(tacc[0])["id"] != dbID {
		t.Fatalf("temporary peer reaches %v", tacc)
	}

	job := s.runJob(t, schemas, dbID)
	s.checkBundle(t, job, put)

	// A write acknowledged right before SIGKILL survives.
	last := obj(s.call("POST", "/api/peers", map[string]any{"name": "last-write"}, 200))
	s.kill9()
	s = start(t, dir)
	after := arr(s.call("GET", "/api/peers", nil, 200))
	names := []string{}
	for _, p := range after {
		names = append(names, obj(p)["name"].(string))
	}
	if strings.Join(names, ",") != "last-write,stage-host-1,stage-host-2,temp-host-1" {
		t.Fatalf("peers after kill -9 = %v", names)
	}
	if p := obj(s.call("GET", "/api/peers/"+last["id"].(string), nil, 200)); p["ip"] != last["ip"] {
		t.Fatalf("last write after restart = %v", p)
	}
	if p := obj(s.call("GET", "/api/policies/"+pol["id"].(string), nil, 200)); p["name"] != "devs to dbs" {
		t.Fatalf("policy after restart = %v", p)
	}
	if jobs := arr(s.call("GET", "/api/peers/"+dbID+"/jobs", nil, 200)); len(jobs) != 1 || obj(jobs[0])["status"] != "succeeded" {
		t.Fatalf("jobs after restart = %v", jobs)
	}
	if acc := arr(s.call("GET", "/api/peers/"+id+"/accessible-peers", nil, 200)); len(acc) != 1 {
		t.Fatalf("accessible after restart = %v", acc)
	}

	if d := obj(s.call("DELETE", "/api/peers/"+dbID, nil, 200)); len(d) != 0 {
		t.Fatalf("delete answered %v, want {}", d)
	}
	s.call("GET", "/api/peers/"+dbID, nil, 404)
	// Deleting db-1 removed the temporary peer's policy with it.
	for _, p := range arr(s.call("GET", "/api/policies", nil, 200)) {
		if strings.HasPrefix(obj(p)["name"].(string), "Temporary access") {
			t.Fatalf("temporary policy outlived its target: %v", p)
		}
	}
	s.stopGracefully(t)
}

// runJob runs the contract's job example to completion and returns it.
func (s *server) runJob(t *testing.T, schemas map[string]any, peerID string) map[string]any {
	t.Helper()
	job := obj(s.call("POST", "/api/peers/"+peerID+"/jobs", map[string]any{"workload": map[string]any{"type": "bundle",
		"parameters": map[string]any{"anonymize": true, "bundle_for": true, "bundle_for_time": 2, "log_file_count": 10}}}, 200))
	s.checkSchema(schemas, "Create Peer Debug Bundle Job", job)
	if job["status"] != "pending" {
		t.Fatalf("new job = %v", job)
	}
	// A second request while one is pending is refused with 400, as the original does.
	s.call("POST", "/api/peers/"+peerID+"/jobs", map[string]any{"workload": map[string]any{"type": "bundle"}}, 400)
	deadline := time.Now().Add(20 * time.Second)
	for job["status"] == "pending" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		job = obj(s.call("GET", "/api/peers/"+peerID+"/jobs/"+job["id"].(string), nil, 200))
	}
	s.checkSchema(schemas, "Get Peer Job", job)
	if job["status"] != "succeeded" {
		t.Fatalf("job = %v", job)
	}
	list := arr(s.call("GET", "/api/peers/"+peerID+"/jobs", nil, 200))
	s.checkSchema(schemas, "List Peer Jobs", list)
	return job
}

// checkBundle downloads the job's bundle and looks inside.
func (s *server) checkBundle(t *testing.T, job, peer map[string]any) {
	t.Helper()
	key := obj(obj(job["workload"])["result"])["upload_key"].(string)
	status, raw := s.raw("GET", "/api/bundles/"+key, nil)
	if status != 200 {
		t.Fatalf("download bundle: %d %s", status, raw)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name[strings.Index(h.Name, "/")+1:]] = string(b)
	}
	for _, f := range []string{"manifest.json", "peer.json", "policies.json", "events.json", "interfaces.json",
		"window-start/interfaces.json", "firewall.txt", "gateway.json", "logs/edgeward.001.log"} {
		if _, ok := files[f]; !ok {
			t.Errorf("bundle lacks %s (has %v)", f, keys(files))
		}
	}
	// The overlay's own domain is kept: it identifies nothing outside.
	if !strings.Contains(files["peer.json"], peer["dns_label"].(string)) {
		t.Errorf("peer.json does not name the peer: %s", files["peer.json"])
	}
	if !strings.Contains(files["peer.json"], "198.18.") {
		t.Errorf("peer.json shows no anonymized address: %s", files["peer.json"])
	}
	for name, body := range files {
		if strings.Contains(body, peer["ip"].(string)) {
			t.Errorf("anonymized bundle file %s still holds the peer's address", name)
		}
		if strings.Contains(body, s.token) {
			t.Errorf("bundle file %s holds the admin token", name)
		}
	}
}

func keys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// stopGracefully sends SIGTERM and expects a clean exit within 5 s.
func (s *server) stopGracefully(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.log)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("edgeward did not exit within 5 s of SIGTERM")
	}
}
