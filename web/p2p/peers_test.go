package p2p

import (
	"testing"
)

func TestNetworkPeers(t *testing.T) {
	e := newEnv(t)
	pid1, _ := e.connect(t, "a-conn", "198.51.100.21:51820")
	pid2, _ := e.connect(t, "b-idle", "")
	stranger := unknownPeerID(t)
	at := obj{"addr": "::ffff:198.51.100.21", "port": 51820.0}
	conn := func(trusted bool) obj {
		return obj{"score": 0.0, "trusted": trusted, "conn_metadata": obj{"disable_mempool": false, "private_node": false},
			"peer_metadata": peerMetadata, "state": "running", "reachable_at": at, "stat": zeroStatJSON, "last_seen": arr{at, anyTS}}
	}
	idle := func(trusted bool) obj {
		return obj{"score": 0.0, "trusted": trusted, "peer_metadata": peerMetadata, "state": "disconnected", "stat": zeroStatJSON}
	}
	stranded := obj{"score": 0.0, "trusted": false, "peer_metadata": peerMetadata, "state": "disconnected", "stat": zeroStatJSON}
	e.run(t, e.admin, []step{
		{"list", "GET", "/network/peers", nil, 200, arr{arr{pid1, conn(false)}, arr{pid2, idle(false)}}},
		{"list running", "GET", "/network/peers?filter=running", nil, 200, arr{arr{pid1, conn(false)}}},
		{"list disconnected", "GET", "/network/peers?filter=disconnected", nil, 200, arr{arr{pid2, idle(false)}}},
		{"list accepted or running", "GET", "/network/peers?filter=accepted&filter=running", nil, 200, arr{arr{pid1, conn(false)}}},
		{"get", "GET", "/network/peers/" + pid2, nil, 200, idle(false)},
		{"get unknown", "GET", "/network/peers/" + stranger, nil, 404, nil},
		{"trust", "PATCH", "/network/peers/" + pid2, obj{"acl": "trust"}, 200, idle(true)},
		{"trusted: not banned", "GET", "/network/peers/" + pid2 + "/banned", nil, 200, false},
		{"ban", "PATCH", "/network/peers/" + pid1, obj{"acl": "ban"}, 200, conn(false)},
		{"banned", "GET", "/network/peers/" + pid1 + "/banned", nil, 200, true},
		{"empty patch", "PATCH", "/network/peers/" + pid1, obj{}, 200, conn(false)},
		{"ban an unknown id: applied and registered, never a 404 after a change", "PATCH", "/network/peers/" + stranger, obj{"acl": "ban"}, 200, stranded},
		{"unknown is banned", "GET", "/network/peers/" + stranger + "/banned", nil, 200, true},
		{"open it: still known", "PATCH", "/network/peers/" + stranger, obj{"acl": "open"}, 200, stranded},
		{"listed after the overlay's peers", "GET", "/network/peers?filter=disconnected", nil, 200, arr{arr{pid2, idle(true)}, arr{stranger, stranded}}},
		{"open", "PATCH", "/network/peers/" + pid1, obj{"acl": "open"}, 200, conn(false)},
		{"opened: not banned", "GET", "/network/peers/" + pid1 + "/banned", nil, 200, false},
		{"log: the original's {kind, timestamp, addr, port}", "GET", "/network/peers/" + pid1 + "/log", nil, 200, arr{
			obj{"kind": "connection_established", "timestamp": anyTS, "addr": "::ffff:198.51.100.21", "port": 51820.0},
		}},
		{"log: ACL events are edgeward's own", "GET", "/network/peers/" + stranger + "/log", nil, 200, arr{}},
	})
}

func TestNetworkPeersDeprecated(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.connect(t, "p", "")
	p := "/network/peers/" + pid
	idle := func(trusted bool) obj {
		return obj{"score": 0.0, "trusted": trusted, "peer_metadata": peerMetadata, "state": "disconnected", "stat": zeroStatJSON}
	}
	e.run(t, e.admin, []step{
		{"ban", "GET", p + "/ban", nil, 200, obj{}},
		{"banned", "GET", p + "/banned", nil, 200, true},
		{"untrust keeps the ban", "GET", p + "/untrust", nil, 200, obj{}},
		{"still banned", "GET", p + "/banned", nil, 200, true},
		{"unban", "GET", p + "/unban", nil, 200, obj{}},
		{"not banned", "GET", p + "/banned", nil, 200, false},
		{"trust", "GET", p + "/trust", nil, 200, obj{}},
		{"trusted", "GET", p, nil, 200, idle(true)},
		{"unban keeps the trust", "GET", p + "/unban", nil, 200, obj{}},
		{"still trusted", "GET", p, nil, 200, idle(true)},
		{"untrust", "GET", p + "/untrust", nil, 200, obj{}},
		{"untrusted", "GET", p, nil, 200, idle(false)},
		{"unknown peer: applied", "GET", "/network/peers/" + unknownPeerID(t) + "/ban", nil, 200, obj{}},
	})
}

func TestNetworkConnections(t *testing.T) {
	e := newEnv(t)
	pid4, _ := e.connect(t, "c4", "198.51.100.22:51820")
	pid6, _ := e.connect(t, "c6", "[2001:db8::99]:51821")
	meta := obj{"disable_mempool": false, "private_node": false}
	conn := func(pid, addr string, port float64) obj {
		version := obj{"chain_name": "edgeward", "distributed_db_version": 0.0, "p2p_version": 1.0}
		return obj{"incoming": true, "peer_id": pid, "id_point": obj{"addr": addr, "port": port}, "remote_socket_port": port,
			"announced_version": version, "private": false, "local_metadata": meta, "remote_metadata": meta}
	}
	c4, c6 := conn(pid4, "::ffff:198.51.100.22", 51820), conn(pid6, "2001:db8::99", 51821)
	e.run(t, e.admin, []step{
		{"list", "GET", "/network/connections", nil, 200, arr{c4, c6}},
		{"get v4", "GET", "/network/connections/" + pid4, nil, 200, c4},
		{"get v6", "GET", "/network/connections/" + pid6, nil, 200, c6},
		{"close", "DELETE", "/network/connections/" + pid4, nil, 200, obj{}},
		{"closed", "GET", "/network/connections/" + pid4, nil, 404, nil},
		{"close again", "DELETE", "/network/connections/" + pid4, nil, 200, obj{}},
		{"close a stranger", "DELETE", "/network/connections/" + unknownPeerID(t), nil, 200, obj{}},
		{"list after", "GET", "/network/connections", nil, 200, arr{c6}},
		{"peer after", "GET", "/network/peers/" + pid4, nil, 200, obj{"score": 0.0, "trusted": false, "peer_metadata": peerMetadata, "state": "disconnected",
			"stat": zeroStatJSON, "last_seen": arr{obj{"addr": "::ffff:198.51.100.22", "port": 51820.0}, anyTS}}},
		{"point after", "GET", "/network/points/198.51.100.22:51820", nil, 404, nil},
	})
}

// peerMetadata is the original's peer_metadata with every counter "0",
// written out field by field as the original's schema names them.
var peerMetadata = func() obj {
	msgs := func() obj {
		return obj{"branch": "0", "head": "0", "block_header": "0", "operations": "0", "protocols": "0",
			"operation_hashes_for_block": "0", "operations_for_block": "0", "checkpoint": "0", "other": "0"}
	}
	kinds := func() obj { return obj{"head": "0", "branch": "0"} }
	return obj{
		"responses":    obj{"sent": msgs(), "failed": msgs(), "received": msgs(), "unexpected": "0", "outdated": "0"},
		"requests":     obj{"sent": msgs(), "received": msgs(), "failed": msgs(), "scheduled": msgs()},
		"valid_blocks": "0", "old_heads": "0",
		"prevalidator_results": obj{"cannot_download": "0", "cannot_parse": "0", "refused_by_prefilter": "0",
			"refused_by_postfilter": "0", "applied": "0", "branch_delayed": "0", "branch_refused": "0", "refused": "0",
			"duplicate": "0", "outdated": "0"},
		"unactivated_chains": "0", "inactive_chains": "0", "future_blocks_advertised": "0",
		"unadvertised":   obj{"block": "0", "operations": "0", "protocol": "0"},
		"advertisements": obj{"sent": kinds(), "received": kinds()},
	}
}()
