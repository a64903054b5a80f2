package openwrt

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeRC stands in for /etc/rc.common: the config_* functions of OpenWrt's
// functions.sh over UCI_<section>_<option> variables (unset or empty gives
// the default, as there), and procd.sh's procd_* functions recording each
// call, one argument per field, to $REC. mkdir and chmod record too, so the
// script never touches the host's /etc.
const fakeRC = `
config_load() { echo "config_load|$1" >>"$REC"; }
config_get() { eval "__v=\${UCI_$2_$3-}"; [ -n "$__v" ] || __v="$4"; eval "$1=\$__v"; }
config_get_bool() {
	config_get __b "$2" "$3" "$4"
	case "$__b" in 1|on|true|yes|enabled) __b=1 ;; 0|off|false|no|disabled) __b=0 ;; *) __b="$4" ;; esac
	eval "$1=\$__b"
}
rec() { printf '%s' "$1" >>"$REC"; shift; for a in "$@"; do printf '|%s' "$a" >>"$REC"; done; echo >>"$REC"; }
procd_open_instance() { rec open_instance "$@"; }
procd_set_param() { rec set_param "$@"; }
procd_close_instance() { rec close_instance "$@"; }
procd_add_reload_trigger() { rec reload_trigger "$@"; }
procd_add_interface_trigger() { rec interface_trigger "$@"; }
mkdir() { rec mkdir "$@"; }
chmod() { rec chmod "$@"; }
. "$INIT"
start_service
service_triggers
`

// parseUCI reads a UCI file into section.option values; it fails on any
// line that is not a comment, "config TYPE 'NAME'" or "option NAME 'VALUE'".
func parseUCI(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	var sec map[string]string
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		unq := func(s string) (string, bool) {
			if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' && !strings.Contains(s[1:len(s)-1], "'") {
				return s[1 : len(s)-1], true
			}
			return "", false
		}
		switch {
		case len(f) == 3 && f[0] == "config":
			name, ok := unq(f[2])
			if !ok || f[1] != "edgeward" {
				t.Fatalf("line %d: %q: want config edgeward 'NAME'", n, line)
			}
			sec = map[string]string{}
			out[name] = sec
		case len(f) == 3 && f[0] == "option" && sec != nil:
			v, ok := unq(f[2])
			if !ok {
				t.Fatalf("line %d: %q: value not in single quotes", n, line)
			}
			if _, dup := sec[f[1]]; dup {
				t.Fatalf("line %d: option %s twice", n, f[1])
			}
			sec[f[1]] = v
		default:
			t.Fatalf("line %d: %q is not UCI", n, line)
		}
	}
	return out
}

func TestUCIConfig(t *testing.T) {
	got := parseUCI(t, mustAsset(t, "edgeward.config"))
	want := map[string]map[string]string{"main": {
		"enabled": "1", "listen": "", "listen_interface": "lan", "port": "8080",
		"data": "/etc/edgeward", "node_name": "edgeward", "endpoint": "",
		"overlay": "100.64.0.0/10", "dns_domain": "edgeward.internal", "dns_upstream": "",
		"wg_interface": "wg0", "wg_port": "51820", "wg_mode": "auto", "log_level": "info",
		"resolv_conf": "", "manage_links": "0", "tls_self_signed": "0", "update_dir": "", "update_key": "",
		"respawn_threshold": "3600", "respawn_timeout": "5", "respawn_retry": "5",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UCI config (-want +got):\n%s", diff)
	}
}

func TestInitScriptSyntax(t *testing.T) {
	for _, name := range []string{"edgeward.init", "postinst", "prerm"} {
		if out, err := exec.Command("sh", "-n", filepath.Join("files", name)).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", name, err, out)
		}
	}
}

// TestInitScript runs start_service and service_triggers of the shipped
// init script under the fake procd, with the shipped UCI defaults, and
// checks the exact procd calls: the command line, respawn, logging and the
// reload triggers.
func TestInitScript(t *testing.T) {
	defaults := parseUCI(t, mustAsset(t, "edgeward.config"))["main"]
	common := func(listen string, extra ...string) []string {
		cmd := append([]string{"set_param|command|/usr/bin/edgeward|serve|--listen=" + listen, "--data=/etc/edgeward",
			"--node-name=edgeward", "--overlay=100.64.0.0/10", "--dns-domain=edgeward.internal",
			"--wg-interface=wg0", "--wg-port=51820", "--wg-mode=auto", "--log-level=info"}, extra...)
		return []string{
			"config_load|edgeward",
			"mkdir|-p|/etc/edgeward",
			"chmod|0700|/etc/edgeward",
			"open_instance",
			strings.Join(cmd, "|"),
			"set_param|respawn|3600|5|5",
			"set_param|stdout|1",
			"set_param|stderr|1",
			"set_param|file|/etc/config/edgeward",
			"set_param|limits|nofile=4096 4096",
			"set_param|term_timeout|10",
			"close_instance",
			"reload_trigger|edgeward",
			"config_load|edgeward",
		}
	}
	ifTrigger := "interface_trigger|interface.*.up|lan|/etc/init.d/edgeward|restart"
	tests := []struct {
		name string
		uci  map[string]string // over the shipped defaults
		net  map[string]string // live interface addresses
		uciN string            // network.lan.ipaddr in /etc/config/network
		want []string
	}{
		{
			name: "defaults listen on the LAN's live address",
			net:  map[string]string{"lan": "192.168.8.1"},
			uciN: "192.168.1.1",
			want: append(common("192.168.8.1:8080"), ifTrigger),
		},
		{
			name: "LAN not up yet: its configured address",
			uciN: "192.168.1.1/24",
			want: append(common("192.168.1.1:8080"), ifTrigger),
		},
		{
			name: "no LAN address anywhere: every address",
			want: append(common("0.0.0.0:8080"), ifTrigger),
		},
		{
			name: "explicit listen, no interface trigger",
			uci:  map[string]string{"listen": "[::]:443", "tls_self_signed": "1"},
			net:  map[string]string{"lan": "192.168.8.1"},
			want: common("[::]:443", "--tls-self-signed"),
		},
		{
			name: "other interface and port, optional flags",
			uci: map[string]string{"listen_interface": "guest", "port": "9000", "endpoint": "vpn.example.net:51820",
				"dns_upstream": "1.1.1.1,9.9.9.9", "manage_links": "1", "respawn_retry": "0"},
			net: map[string]string{"guest": "10.0.0.1"},
			want: func() []string {
				w := common("10.0.0.1:9000", "--endpoint=vpn.example.net:51820", "--dns-upstream=1.1.1.1,9.9.9.9", "--manage-links")
				// the optional flags follow the init script's order
				w[4] = "set_param|command|/usr/bin/edgeward|serve|--listen=10.0.0.1:9000|--data=/etc/edgeward|--node-name=edgeward|--endpoint=vpn.example.net:51820|--overlay=100.64.0.0/10|--dns-domain=edgeward.internal|--dns-upstream=1.1.1.1,9.9.9.9|--wg-interface=wg0|--wg-port=51820|--wg-mode=auto|--log-level=info|--manage-links"
				w[5] = "set_param|respawn|3600|5|0"
				return append(w, "interface_trigger|interface.*.up|guest|/etc/init.d/edgeward|restart")
			}(),
		},
		{
			name: "updates on: the launcher runs serve from its slots",
			uci:  map[string]string{"update_dir": "/mnt/usb/edgeward-slots", "update_key": "/etc/edgeward/update.pub"},
			net:  map[string]string{"lan": "192.168.8.1"},
			want: func() []string {
				w := common("192.168.8.1:8080", "--update-key=/etc/edgeward/update.pub")
				w[4] = strings.Replace(w[4], "|serve|", "|run-slot|--update-dir=/mnt/usb/edgeward-slots|--|serve|", 1)
				return append(w, ifTrigger)
			}(),
		},
		{
			name: "disabled starts nothing",
			uci:  map[string]string{"enabled": "0"},
			want: []string{"config_load|edgeward", "reload_trigger|edgeward", "config_load|edgeward",
				ifTrigger},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runInit(t, defaults, tt.uci, tt.net, tt.uciN)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("procd calls (-want +got):\n%s", diff)
			}
		})
	}
}

// runInit runs the init script under fakeRC and returns the recorded calls.
func runInit(t *testing.T, defaults, uci, net map[string]string, uciNetwork string) []string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	write := func(path, text string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	// network.sh's network_get_ipaddr over NET_<iface>.
	write(filepath.Join(root, "lib/functions/network.sh"), `network_get_ipaddr() { eval "$1=\${NET_$2-}"; }`+"\n", 0o644)
	// uci -q get network.lan.ipaddr prints the configured address.
	write(filepath.Join(dir, "bin/uci"), "#!/bin/sh\n[ \"$1 $2 $3\" = \"-q get network.lan.ipaddr\" ] && [ -n \"$UCI_NETWORK\" ] && echo \"$UCI_NETWORK\"\nexit 0\n", 0o755)
	env := []string{
		"PATH=" + filepath.Join(dir, "bin") + ":/usr/bin:/bin",
		"IPKG_INSTROOT=" + root,
		"INIT=" + filepath.Join(mustAbs(t, "files"), "edgeward.init"),
		"REC=" + filepath.Join(dir, "rec"),
		"UCI_NETWORK=" + uciNetwork,
	}
	for k, v := range defaults {
		if o, ok := uci[k]; ok {
			v = o
		}
		env = append(env, fmt.Sprintf("UCI_main_%s=%s", k, v))
	}
	for k, v := range net {
		env = append(env, fmt.Sprintf("NET_%s=%s", k, v))
	}
	cmd := exec.Command("sh", "-c", fakeRC)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init script: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "rec"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
