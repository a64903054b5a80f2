package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/views/pages"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// The interfaces pages make the same core/links calls as the /v2/network
// dialect and build their view models from core/links' types. A form carries
// what the API takes from headers and the query: the ETag it was read at
// (If-Match) and the rollback deadline (confirm_within), which the forms
// offer by default because a network change can cut the admin off.

// Form fields beside the config's own.
const (
	ifaceMatchField   = "if_match"
	ifaceConfirmField = "confirm_within"
	// ifaceConfirmDefault is the deadline the forms preselect, in seconds.
	ifaceConfirmDefault = "120"
)

var (
	ifaceFields    = []string{"mtu", "default_gateway", "default_gateway_ipv6", "bonding_mode", ifaceConfirmField}
	ifaceNetFields = []string{"name", "assigned_by", "ip_ranges", "floating_ip_ranges", "netmask", "dns_servers",
		"dns_search_domains", "mtu", "vlan_id", ifaceConfirmField}
	ifaceDeleteFields = []string{ifaceConfirmField}
)

// StaleForm is what a form says when the configuration changed after the page was loaded.
const StaleForm = "The configuration changed after this page was loaded. Check the current values above and submit again."

// interfaceRoutes mounts the interfaces pages.
func (u *ui) interfaceRoutes(app *fiber.App) {
	const one = "/interfaces/:id"
	app.Get("/interfaces", u.authed(u.ifacesPage)...)
	app.Get(one, u.authed(u.ifacePage)...)
	app.Post(one, u.authed(u.ifaceSet)...)
	app.Post(one+"/confirm", u.authed(u.ifaceConfirm)...)
	// "new" is registered before :nid, which would take it otherwise.
	app.Get(one+"/networks/new", u.authed(u.ifaceNetPage)...)
	app.Post(one+"/networks", u.authed(u.ifaceAddNet)...)
	app.Get(one+"/networks/:nid", u.authed(u.ifaceNetPage)...)
	app.Post(one+"/networks/:nid", u.authed(u.ifaceSetNet)...)
	app.Get(one+"/networks/:nid/delete", u.authed(u.ifaceNetDeletePage)...)
	app.Post(one+"/networks/:nid/delete", u.authed(u.ifaceDeleteNet)...)
}

// ifacePathNum reads a numeric path parameter; anything else names nothing
// that exists, so it is a 404 page.
func ifacePathNum(c *fiber.Ctx, name, what string) (int, error) {
	n, err := strconv.Atoi(c.Params(name))
	if err != nil || n < 0 {
		return 0, core.NotFound("%s %q not found", what, c.Params(name))
	}
	return n, nil
}

func ifacePath(id int) string { return "/interfaces/" + strconv.Itoa(id) }

func (u *ui) ifacesPage(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	p := pages.IfacesProps{Page: u.navPage(c, "Interfaces", "/interfaces"), ReadOnly: u.d.Links.ReadOnly()}
	now := time.Now()
	for _, s := range u.d.Links.Statuses(cx) {
		p.Rows = append(p.Rows, ifaceRow(s, u.ifaceConfirmState(s.Interface.ID, now)))
	}
	return render(c, fiber.StatusOK, pages.Ifaces(p))
}

// The kernel's and the API's enum values, in the words the pages show.
var (
	ifaceUpdateWords = map[string]string{links.ChangesApplied: "Applied", links.ChangesPending: "Pending", links.Unavailable: "Unavailable"}
	ifaceStateWords  = map[string]string{links.StateUp: "Up", links.StateDown: "Down", links.StateMissing: "Missing"}
	ifaceCableWords  = map[string]string{links.CableConnected: "Cable connected", links.CableDisconnected: "No cable",
		links.CableUnknown: "Cable unknown"}
	ifaceOperWords = map[string]string{links.OperUnknown: "kernel state unknown", links.OperNotPresent: "device not present",
		links.OperDown: "down", links.OperLowerLayerDown: "lower layer down", links.OperTesting: "testing",
		links.OperDormant: "dormant", links.OperUp: "up", links.OperMissing: "missing"}
	ifaceAssignWords = map[string]string{links.AssignedStatic: "Static", links.AssignedDHCP: "DHCP", links.AssignedLinkLocal: "Link-local"}
)

// ifaceWord is v in words, or v itself when it has none.
func ifaceWord(words map[string]string, v string) string {
	if w, ok := words[v]; ok {
		return w
	}
	return v
}

func ifaceRow(s links.NodeStatus, cf pages.IfaceConfirm) pages.IfaceRow {
	d, i := s.Details, s.Interface
	r := pages.IfaceRow{ID: i.ID, Name: i.Name, MAC: d.MAC, State: ifaceWord(ifaceStateWords, d.State), Up: d.State == links.StateUp,
		Cable: ifaceWord(ifaceCableWords, d.CableStatus), Cabled: d.CableStatus == links.CableConnected,
		Speed: linkSpeed(d.SpeedMbps), MTU: strconv.Itoa(i.MTU), Gateway: ifaceAddr(i.DefaultGateway), GatewayV6: ifaceAddr(i.DefaultGatewayV6),
		Rx: ifaceBytes(d.BytesReceived), Tx: ifaceBytes(d.BytesSent), RxBytes: strconv.FormatUint(d.BytesReceived, 10),
		TxBytes: strconv.FormatUint(d.BytesSent, 10), Update: ifaceUpdateWords[s.UpdateStatus], Sampled: d.SampledAt, Confirm: cf}
	if d.OperState != d.State {
		r.OperState = ifaceWord(ifaceOperWords, d.OperState)
	}
	for _, n := range s.Networks {
		r.Networks = append(r.Networks, pages.IfaceNetStatus{Name: n.Name, AssignedBy: ifaceWord(ifaceAssignWords, n.AssignedBy), Address: n.Address,
			CIDR: ifaceCIDR(n.Address, n.Netmask), Netmask: n.Netmask, Floating: strings.Join(n.FloatingAddresses, ", "),
			DNS: strings.Join(n.DNSServers, ", "), Search: strings.Join(n.DNSSearchDomains, ", "), MTU: strconv.Itoa(n.MTU),
			VLAN: ifaceVLAN(n.VLANID)})
	}
	return r
}

// ifaceAddr is a, or "" for none.
func ifaceAddr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// ifaceCIDR writes an address with its netmask, dotted or CIDR, as
// address/length; "" when there is no address. A netmask that is not one
// of the address's family is shown as it is.
func ifaceCIDR(addr, netmask string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	if netmask == "" {
		return addr
	}
	if n, v6, err := links.ParseNetmask(netmask); err == nil && v6 == a.Is6() {
		return netip.PrefixFrom(a, n).String()
	}
	return addr + "/" + netmask
}

func ifaceVLAN(id int) string {
	if id == 0 {
		return "untagged"
	}
	return strconv.Itoa(id)
}

// ifaceBytes is n in binary units, one decimal.
func ifaceBytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(1024), 0
	for m := n / 1024; m >= 1024 && exp < 5; m /= 1024 {
		div *= 1024
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ifaceConfirmState is where interface id's last change with a deadline
// stands, as the core tells it (pending, expired, confirmed, rolled back).
func (u *ui) ifaceConfirmState(id int, now time.Time) pages.IfaceConfirm {
	st := u.d.Links.ConfirmState(id, now)
	cf := pages.IfaceConfirm{State: st.State}
	switch st.State {
	case links.ConfirmPending:
		cf.Deadline = st.Deadline
		// Whole seconds, rounded down: never more time than the core gives.
		cf.Remaining = int(st.Deadline.Sub(now) / time.Second)
		if cf.Remaining < 1 {
			cf.State = links.ConfirmExpired
		}
	case links.ConfirmExpired:
		cf.Deadline = st.Deadline
	case links.ConfirmConfirmed, links.ConfirmRolledBack:
		cf.At = st.At
	}
	return cf
}

// ifaceProps is interface id's page as stored and as the kernel runs it.
// The ETag is read first: values newer than it only make a submit stale.
func (u *ui) ifaceProps(c *fiber.Ctx, id int) (pages.IfaceProps, error) {
	tag, err := u.d.Links.ETag(id)
	if err != nil {
		return pages.IfaceProps{}, err
	}
	ns, err := u.d.Links.Networks(id)
	if err != nil {
		return pages.IfaceProps{}, err
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	sts, err := u.d.Links.Status(cx, id)
	if err != nil {
		return pages.IfaceProps{}, err
	}
	if len(sts) == 0 {
		return pages.IfaceProps{}, core.NotFound("interface %d has no status", id)
	}
	s := sts[0]
	i := s.Interface
	p := pages.IfaceProps{Page: u.navPage(c, "Interface "+i.Name, "/interfaces"), NodeName: s.NodeName,
		Status: ifaceRow(s, u.ifaceConfirmState(id, time.Now())), Saved: c.Query("saved") == "1", ReadOnly: u.d.Links.ReadOnly(),
		Form: pages.IfaceForm{IfMatch: tag, MTU: strconv.Itoa(i.MTU), Gateway: ifaceAddr(i.DefaultGateway),
			GatewayV6: ifaceAddr(i.DefaultGatewayV6), Bonding: i.BondingMode, ConfirmWithin: ifaceConfirmDefault}}
	for _, n := range ns {
		p.Networks = append(p.Networks, ifaceNet(n))
	}
	return p, nil
}

func ifaceNet(n links.Network) pages.IfaceNet {
	vlan := ""
	if n.VLANID != 0 {
		vlan = strconv.Itoa(n.VLANID)
	}
	return pages.IfaceNet{ID: n.ID, Name: n.Name, AssignedBy: n.AssignedBy, By: ifaceWord(ifaceAssignWords, n.AssignedBy), IPRanges: strings.Join(n.IPRanges, ", "),
		Floating: strings.Join(n.FloatingIPRanges, ", "), Netmask: n.Netmask, DNS: strings.Join(n.DNSServers, ", "),
		Search: strings.Join(n.DNSSearchDomains, ", "), MTU: strconv.Itoa(n.MTU), VLAN: vlan}
}

// ifacePage shows one interface. An htmx request aimed at the countdown
// gets only the countdown, which needs no kernel read.
func (u *ui) ifacePage(c *fiber.Ctx) error {
	id, err := ifacePathNum(c, "id", "interface")
	if err != nil {
		return err
	}
	if c.Get("HX-Request") == "true" && c.Get("HX-Target") == pages.IfaceCountdownID {
		if _, err := u.d.Links.Interface(id); err != nil {
			return err
		}
		return render(c, fiber.StatusOK, pages.IfaceCountdown(id, u.ifaceConfirmState(id, time.Now())))
	}
	p, err := u.ifaceProps(c, id)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.Iface(p))
}

func (u *ui) ifaceSet(c *fiber.Ctx) error {
	id, err := ifacePathNum(c, "id", "interface")
	if err != nil {
		return err
	}
	v := &core.ValidationError{}
	patch := links.InterfacePatch{DefaultGateway: ifaceFormText(c, "default_gateway"),
		DefaultGatewayV6: ifaceFormText(c, "default_gateway_ipv6"), BondingMode: ifaceFormText(c, "bonding_mode"),
		MTU: ifaceFormInt(v, c, "mtu", true)}
	opts := ifaceWriteOpts(c, v)
	if err = v.Err(); err == nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		err = u.d.Links.SetInterface(cx, id, patch, opts)
	}
	if err != nil {
		status, fields, ok := ifaceRefusal(err)
		if !ok {
			return err
		}
		p, perr := u.ifaceProps(c, id)
		if perr != nil {
			return perr
		}
		f := pages.IfaceForm{IfMatch: p.Form.IfMatch, MTU: c.FormValue("mtu"), Gateway: c.FormValue("default_gateway"),
			GatewayV6: c.FormValue("default_gateway_ipv6"), Bonding: c.FormValue("bonding_mode"),
			ConfirmWithin: c.FormValue(ifaceConfirmField)}
		if !errors.Is(err, links.ErrStale) {
			f.IfMatch = c.FormValue(ifaceMatchField)
		}
		f.Errors, f.Error = ifacePlaceErrors(fields, ifaceFields)
		p.Form = f
		return render(c, status, pages.Iface(p))
	}
	u.d.Log.Info("interface config changed", "request_id", httpx.RequestID(c), "remote", c.IP(), "interface_id", id,
		"confirm_within", opts.ConfirmWithin.String())
	return c.Redirect(ifacePath(id)+"?saved=1", fiber.StatusSeeOther)
}

// ifaceConfirm keeps the change awaiting confirmation. When none
// does (confirmed already, rolled back, too late), the page says so.
func (u *ui) ifaceConfirm(c *fiber.Ctx) error {
	id, err := ifacePathNum(c, "id", "interface")
	if err != nil {
		return err
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	err = u.d.Links.Confirm(cx, id)
	var pub *core.Error
	if errors.As(err, &pub) && pub.Kind == core.ErrConflict {
		p, perr := u.ifaceProps(c, id)
		if perr != nil {
			return perr
		}
		p.ConfirmError = sentence(pub.Msg)
		return render(c, fiber.StatusConflict, pages.Iface(p))
	}
	if err != nil {
		return err
	}
	u.d.Log.Info("interface change confirmed", "request_id", httpx.RequestID(c), "remote", c.IP(), "interface_id", id)
	return c.Redirect(ifacePath(id), fiber.StatusSeeOther)
}

// ifaceNetProps is the network form of interface id: for network nid, or
// for a new network when the route has no :nid.
func (u *ui) ifaceNetProps(c *fiber.Ctx, id int) (pages.IfaceNetworkProps, error) {
	tag, err := u.d.Links.ETag(id)
	if err != nil {
		return pages.IfaceNetworkProps{}, err
	}
	i, err := u.d.Links.Interface(id)
	if err != nil {
		return pages.IfaceNetworkProps{}, err
	}
	p := pages.IfaceNetworkProps{IfaceID: id, IfaceMTU: strconv.Itoa(i.MTU), IfMatch: tag, ConfirmWithin: ifaceConfirmDefault,
		Values: pages.IfaceNet{AssignedBy: links.AssignedStatic}}
	if c.Params("nid") == "" {
		p.Page = u.navPage(c, "Add a network to "+i.Name, "/interfaces")
		return p, nil
	}
	nid, err := ifacePathNum(c, "nid", "network")
	if err != nil {
		return p, err
	}
	n, err := u.d.Links.Network(id, nid)
	if err != nil {
		return p, err
	}
	p.Page = u.navPage(c, "Network "+n.Name+" of "+i.Name, "/interfaces")
	p.NetID, p.Values = nid, ifaceNet(n)
	return p, nil
}

func (u *ui) ifaceNetPage(c *fiber.Ctx) error {
	id, err := ifacePathNum(c, "id", "interface")
	if err != nil {
		return err
	}
	p, err := u.ifaceNetProps(c, id)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.IfaceNetwork(p))
}

func (u *ui) ifaceAddNet(c *fiber.Ctx) error {
	return u.ifaceWriteNet(c, func(cx context.Context, id int, p links.NetworkPatch, o links.WriteOpts) error {
		_, err := u.d.Links.AddNetwork(cx, id, p, o)
		return err
	})
}

func (u *ui) ifaceSetNet(c *fiber.Ctx) error {
	nid, err := ifacePathNum(c, "nid", "network")
	if err != nil {
		return err
	}
	return u.ifaceWriteNet(c, func(cx context.Context, id int, p links.NetworkPatch, o links.WriteOpts) error {
		return u.d.Links.SetNetwork(cx, id, nid, p, o)
	})
}

// ifaceWriteNet reads the network form and makes one write with it. A
// refused write shows the form again with the messages next to its
// fields.
func (u *ui) ifaceWriteNet(c *fiber.Ctx, write func(context.Context, int, links.NetworkPatch, links.WriteOpts) error) error {
	id, err := ifacePathNum(c, "id", "interface")
	if err != nil {
		return err
	}
	v := &core.ValidationError{}
	patch := links.NetworkPatch{Name: ifaceFormText(c, "name"), AssignedBy: ifaceFormText(c, "assigned_by"),
		IPRanges: ifaceFormList(c, "ip_ranges"), FloatingIPRanges: ifaceFormList(c, "floating_ip_ranges"), Netmask: ifaceFormText(c, "netmask"),
		DNSServers: ifaceFormList(c, "dns_servers"), DNSSearchDomains: ifaceFormList(c, "dns_search_domains"),
		MTU: ifaceFormInt(v, c, "mtu", false), VLANID: ifaceFormInt(v, c, "vlan_id", false)}
	if patch.VLANID == nil && ifaceFormText(c, "vlan_id") != nil {
		patch.VLANID = new(int) // an empty tag is untagged
	}
	opts := ifaceWriteOpts(c, v)
	if err = v.Err(); err == nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		err = write(cx, id, patch, opts)
	}
	if err != nil {
		status, fields, ok := ifaceRefusal(err)
		if !ok {
			return err
		}
		p, perr := u.ifaceNetProps(c, id)
		if perr != nil {
			return perr
		}
		p.Values = pages.IfaceNet{ID: p.NetID, Name: c.FormValue("name"), AssignedBy: c.FormValue("assigned_by"),
			IPRanges: c.FormValue("ip_ranges"), Floating: c.FormValue("floating_ip_ranges"), Netmask: c.FormValue("netmask"),
			DNS: c.FormValue("dns_servers"), Search: c.FormValue("dns_search_domains"), MTU: c.FormValue("mtu"),
			VLAN: c.FormValue("vlan_id")}
		p.ConfirmWithin = c.FormValue(ifaceConfirmField)
		if !errors.Is(err, links.ErrStale) {
			p.IfMatch = c.FormValue(ifaceMatchField)
		}
		p.Errors, p.Error = ifacePlaceErrors(fields, ifaceNetFields)
		return render(c, status, pages.IfaceNetwork(p))
	}
	u.d.Log.Info("interface network written", "request_id", httpx.RequestID(c), "remote", c.IP(), "interface_id", id,
		"network_id", c.Params("nid"), "confirm_within", opts.ConfirmWithin.String())
	return c.Redirect(ifacePath(id)+"?saved=1", fiber.StatusSeeOther)
}

func (u *ui) ifaceNetDeleteProps(c *fiber.Ctx) (pages.IfaceNetworkDeleteProps, error) {
	id, err := ifacePathNum(c, "id", "interface")
	if err != nil {
		return pages.IfaceNetworkDeleteProps{}, err
	}
	nid, err := ifacePathNum(c, "nid", "network")
	if err != nil {
		return pages.IfaceNetworkDeleteProps{}, err
	}
	tag, err := u.d.Links.ETag(id)
	if err != nil {
		return pages.IfaceNetworkDeleteProps{}, err
	}
	i, err := u.d.Links.Interface(id)
	if err != nil {
		return pages.IfaceNetworkDeleteProps{}, err
	}
	n, err := u.d.Links.Network(id, nid)
	if err != nil {
		return pages.IfaceNetworkDeleteProps{}, err
	}
	return pages.IfaceNetworkDeleteProps{Page: u.navPage(c, "Delete network", "/interfaces"), IfaceID: id, IfaceName: i.Name,
		NetID: nid, Name: n.Name, IfMatch: tag, ConfirmWithin: ifaceConfirmDefault}, nil
}

// ifaceNetDeletePage asks before deleting; unknown ids are a 404 page.
func (u *ui) ifaceNetDeletePage(c *fiber.Ctx) error {
	p, err := u.ifaceNetDeleteProps(c)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.IfaceNetworkDelete(p))
}

func (u *ui) ifaceDeleteNet(c *fiber.Ctx) error {
	p, err := u.ifaceNetDeleteProps(c)
	if err != nil {
		return err
	}
	v := &core.ValidationError{}
	opts := ifaceWriteOpts(c, v)
	if err = v.Err(); err == nil {
		cx, cancel := httpx.Ctx(c)
		defer cancel()
		err = u.d.Links.DeleteNetwork(cx, p.IfaceID, p.NetID, opts)
	}
	if err != nil {
		status, fields, ok := ifaceRefusal(err)
		if !ok {
			return err
		}
		p.ConfirmWithin = c.FormValue(ifaceConfirmField)
		if !errors.Is(err, links.ErrStale) {
			p.IfMatch = c.FormValue(ifaceMatchField)
		}
		p.Errors, p.Error = ifacePlaceErrors(fields, ifaceDeleteFields)
		return render(c, status, pages.IfaceNetworkDelete(p))
	}
	u.d.Log.Info("interface network deleted", "request_id", httpx.RequestID(c), "remote", c.IP(), "interface_id", p.IfaceID,
		"network_id", p.NetID, "confirm_within", opts.ConfirmWithin.String())
	return c.Redirect(ifacePath(p.IfaceID)+"?saved=1", fiber.StatusSeeOther)
}

// ifaceWriteOpts are the API's write options for this request (among them
// the address it came in on, which the lockout guard needs), with If-Match
// and the deadline from the form. Shape errors go to v.
func ifaceWriteOpts(c *fiber.Ctx, v *core.ValidationError) links.WriteOpts {
	var o links.WriteOpts
	if ta, ok := c.Context().LocalAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			o.ClientAddr = a.Unmap()
		}
	}
	if s := ifaceFormText(c, ifaceMatchField); s != nil {
		o.IfMatch = *s
	}
	if s := ifaceFormText(c, ifaceConfirmField); s != nil {
		n, err := strconv.Atoi(*s)
		if err != nil || n < 0 || n > 86400 {
			v.Add(ifaceConfirmField, "must be a number of seconds from 0 (no rollback) to 86400")
		}
		o.ConfirmWithin = time.Duration(n) * time.Second
	}
	return o
}

// ifaceFormText is a posted field, trimmed; nil when the form did not send it,
// which leaves the value as it is (a PATCH).
func ifaceFormText(c *fiber.Ctx, name string) *string {
	var s string
	if args := c.Request().PostArgs(); args.Has(name) {
		s = string(args.Peek(name))
	} else if f, err := c.MultipartForm(); err == nil && len(f.Value[name]) > 0 {
		s = f.Value[name][0]
	} else {
		return nil
	}
	s = strings.TrimSpace(s)
	return &s
}

// ifaceFormInt is a posted whole number; nil when not sent, or sent empty and
// not required.
func ifaceFormInt(v *core.ValidationError, c *fiber.Ctx, name string, required bool) *int {
	s := ifaceFormText(c, name)
	if s == nil {
		return nil
	}
	if *s == "" {
		if required {
			v.Add(name, "is required")
		}
		return nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil {
		v.Add(name, "%q is not a whole number", *s)
		return nil
	}
	return &n
}

// ifaceFormList is a posted list, its items separated by commas or spaces.
func ifaceFormList(c *fiber.Ctx, name string) *[]string {
	s := ifaceFormText(c, name)
	if s == nil {
		return nil
	}
	items := strings.FieldsFunc(*s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if items == nil {
		items = []string{}
	}
	return &items
}

// ifaceRefusal sorts a refused write: messages by field with the status
// the page answers (422 for bad input, 409 for a conflict or a stale
// form; the stale form's message is under ""); ok is false for any other
// error, which becomes an error page.
func ifaceRefusal(err error) (status int, fields map[string]string, ok bool) {
	if errors.Is(err, links.ErrStale) {
		return fiber.StatusConflict, map[string]string{"": StaleForm}, true
	}
	if fields, ok = formErrors(err); !ok {
		return 0, nil, false
	}
	var pub *core.Error
	if errors.As(err, &pub) {
		return httpx.StatusOf(pub.Kind), fields, true
	}
	return fiber.StatusUnprocessableEntity, fields, true
}

// ifacePlaceErrors puts each message next to the form's field it is about: the
// core names list items "ip_ranges[1]", the form has one "ip_ranges". The
// others are about the form as a whole.
func ifacePlaceErrors(fields map[string]string, known []string) (byField map[string]string, whole string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	byField = map[string]string{}
	var rest []string
	for _, k := range keys {
		base, _, _ := strings.Cut(k, "[")
		switch {
		case !slices.Contains(known, base):
			rest = append(rest, fields[k])
		case byField[base] == "":
			byField[base] = fields[k]
		}
	}
	return byField, strings.Join(rest, " ")
}
