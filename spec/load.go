package spec

import (
	"bytes"
	"errors"
	"go/token"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options are the inputs to resolving a spec that do not come from the spec
// file itself.
type Options struct {
	// DefaultPackage is the package name used when the spec has no
	// package key: $GOPACKAGE when run from go generate.
	DefaultPackage string
	// OutFile is the generated file's path. When empty it goes beside the
	// spec, named after it: chat.yaml gives chat.protogen.go.
	OutFile string
}

// Keys of each mapping in a spec, in the order the reference lists them.
var (
	fileKeys     = []string{"$schema", "version", "package", "enums", "types", "messages", "protocols", extensionKeys}
	protocolKeys = []string{"name", "doc", "fields", "hooks", "flow", "nodelay", "framing", "machine", "read_timeout", "idle_timeout", "frame_timeout", "receives", "sends", "client", "states"}
	fieldKeys    = []string{"name", "type", "doc"}
	flowKeys     = []string{"high_water", "low_water", "pause_reading"}
)

// Version is the only spec version this protogen reads.
const Version = 1

// Load reads, validates and resolves the spec at path.
func Load(path string, opts Options) (*Spec, error) {
	s, err := LoadPartial(path, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Parse validates and resolves a spec read from file. On failure the error
// is an [ErrorList] holding every problem found.
func Parse(file string, data []byte, opts Options) (*Spec, error) {
	s, err := ParsePartial(file, data, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// LoadPartial is [Load], except that for a spec with errors it also
// returns what of the spec could be read (unless the file is not one YAML
// mapping), so that [CheckTypes] can report the problems of its field
// types with the others, all at once. Such a spec is for CheckTypes only.
func LoadPartial(path string, opts Options) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePartial(path, data, opts)
}

// ParsePartial is [Parse] as LoadPartial is Load.
func ParsePartial(file string, data []byte, opts Options) (*Spec, error) {
	s, err := parse(file, data, opts)
	if err != nil {
		if s != nil {
			s.incomplete = true
		}
		return s, withSource(err, file, data)
	}
	return s, nil
}

func parse(file string, data []byte, opts Options) (*Spec, error) {
	d := &decoder{file: file}
	root := d.document(data)
	if root == nil {
		return nil, d.errs.err()
	}
	s := &Spec{Path: file, data: data}
	d.topLevel(root, s, opts)
	if err := d.errs.err(); err != nil {
		return s, err
	}
	if err := d.placeOutput(s, opts); err != nil {
		return s, err
	}
	if err := d.errs.err(); err != nil {
		return s, err
	}
	return s, nil
}

// yamlLine finds the line in yaml.v3's error messages, which carry no
// column.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data as one YAML document and returns its root node, or
// nil after reporting why it cannot.
func (d *decoder) document(data []byte) (root *yaml.Node) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 has panicked on hostile input before
			d.errorAt(Pos{1, 1}, "malformed YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(Pos{1, 1}, "empty spec: expected a mapping with version and protocols")
			return nil
		}
		d.yamlError(data, err)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.errorf(&extra, "a spec is one YAML document; found a second")
	case !errors.Is(err, io.EOF):
		d.yamlError(data, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		d.errorAt(Pos{1, 1}, "empty spec: expected a mapping with version and protocols")
		return nil
	}
	// Aliases may add at most maxNodes to the nodes the document holds.
	d.budget = countNodes(&doc) + maxNodes
	return d.visit(doc.Content[0])
}

// countNodes counts the nodes of a tree without following aliases.
func countNodes(n *yaml.Node) int {
	count := 1
	for _, c := range n.Content {
		count += countNodes(c)
	}
	return count
}

// yamlError reports a YAML syntax error in data where it is
// (locateYAMLError), or else at the line yaml.v3 gives.
func (d *decoder) yamlError(data []byte, err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	pos := Pos{line, 1}
	if p, what, ok := locateYAMLError(data, msg); ok {
		pos, msg = p, what
	}
	d.errorAt(pos, "malformed YAML: %s", msg)
}

// topLevel decodes the top-level mapping into s.
func (d *decoder) topLevel(n *yaml.Node, s *Spec, opts Options) {
	var version, protocols, enums, types, messages *yaml.Node
	var pkg string
	var pkgNode *yaml.Node
	if !d.mapping(n, "spec", fileKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "$schema":
			d.str(v, "$schema")
		case "version":
			version = v
		case "package":
			if !isNull(v) {
				pkgNode = v
				var ok bool
				if pkg, ok = d.str(v, "package"); ok && pkg == "" {
					d.errorf(v, "package: empty name")
				}
			}
		case "protocols":
			protocols = v
		case "enums":
			enums = v
		case "types":
			types = v
		case "messages":
			messages = v
		}
	}) {
		return
	}
	// The messages part first: protocols refer to its sets.
	d.msgs = &messageScope{enums: map[string]*Enum{}, types: map[string]*Message{}, sets: map[string]*MessageSet{},
		messages: map[string]*Message{}, pending: map[*MessageField]*fieldRefs{},
		ownEndian: map[*MessageField]bool{}, typeEndian: map[*Message]Endian{}}
	if enums != nil {
		s.Enums = d.enums(enums, d.msgs)
	}
	if types != nil {
		s.Types = d.structTypes(types, d.msgs)
	}
	if messages != nil {
		s.Sets = d.messageSets(messages, d.msgs)
		d.resolveReplies(s.Sets)
	}
	d.typeEndians(s.Types, s.Sets, d.msgs)
	s.Members = declareMessageMembers(s)
	switch {
	case version == nil:
		d.missingf(n, "missing version: add \"version: %d\"", Version)
	default:
		if v, ok := d.integer(version, "version"); ok && v != Version {
			d.errorf(version, "unknown version %d: this protogen reads version %d", v, Version)
		}
	}
	switch {
	case pkgNode != nil:
		if pkg != "" && d.checkIdent(pkgNode, "package", pkg) {
			s.Package = pkg
		}
	case opts.DefaultPackage != "":
		if !token.IsIdentifier(opts.DefaultPackage) || opts.DefaultPackage == "_" {
			d.missingf(n, "missing package, and $GOPACKAGE (%q) is not a Go identifier: add \"package: name\"", opts.DefaultPackage)
			break
		}
		s.Package = opts.DefaultPackage
	default:
		d.missingf(n, "missing package: add \"package: name\", or run protogen from go generate, which sets $GOPACKAGE (or in a folder that holds a Go package)")
	}
	if protocols == nil || isNull(protocols) {
		// A spec of messages alone generates their types and codecs,
		// for protocols of other packages to use.
		if len(s.Sets) == 0 && len(s.Types) == 0 && len(s.Enums) == 0 {
			d.missingf(n, "missing protocols: list at least one protocol, or messages")
			return
		}
		d.checkMessageNames(s)
		return
	}
	d.sequence(protocols, "protocols", func(item *yaml.Node) {
		if p := d.protocol(item); p != nil {
			s.Protocols = append(s.Protocols, p)
		}
	})
	if protocols.Kind == yaml.SequenceNode && len(protocols.Content) == 0 {
		d.errorf(protocols, "protocols: list at least one protocol")
	}
	d.checkProtocolNames(s.Protocols)
	d.checkMessageNames(s)
}

// protocol decodes one protocol mapping.
func (d *decoder) protocol(n *yaml.Node) *Protocol {
	p := &Protocol{Pos: posOf(n), HighWater: -1, LowWater: -1, NoDelay: true}
	named, valid := false, false
	var machineNode, frameTimeoutKey, receivesNode, sendsNode, clientNode *yaml.Node
	given := make(map[string]bool) // the keys present, valid or not
	if !d.mapping(n, "protocol", protocolKeys, func(key string, k, v *yaml.Node) {
		given[key] = !isNull(v)
		switch key {
		case "name":
			if name, ok := d.str(v, "name"); ok {
				p.Pos = posOf(v)
				p.Name = name
				valid = d.checkExported(v, "protocol name", name)
			}
			named = true
		case "doc":
			if !isNull(v) {
				p.Doc = d.doc(v)
			}
		case "fields":
			d.sequence(v, "fields", func(item *yaml.Node) {
				if f := d.field(item); f != nil {
					p.Fields = append(p.Fields, f)
				}
			})
		case "hooks":
			p.HooksPos = posOf(v)
			d.hooks(v, p)
		case "flow":
			d.flow(v, p)
		case "nodelay":
			if nd, ok := d.boolean(v, "nodelay"); ok {
				p.NoDelay = nd
			}
		case "framing":
			p.Framing = d.framing(v)
		case "machine":
			machineNode = v
		case "states":
			d.errorf(k, "states: a state machine is written as machine: {initial: ..., states: [...], transitions: [...]}")
		case "read_timeout":
			p.ReadTimeout, _ = d.duration(v, "read_timeout")
		case "idle_timeout":
			p.IdleTimeout, _ = d.duration(v, "idle_timeout")
		case "frame_timeout":
			p.FrameTimeout, _ = d.duration(v, "frame_timeout")
			frameTimeoutKey = k
		case "receives":
			receivesNode = v
		case "sends":
			sendsNode = v
		case "client":
			clientNode = v
		}
	}) {
		return nil
	}
	if !named {
		d.missingf(n, "protocol: missing name")
	}
	if p.HooksPos == (Pos{}) {
		p.HooksPos = p.Pos
	}
	if machineNode != nil {
		p.Machine = d.machine(machineNode, p.Name)
	}
	if receivesNode != nil {
		p.Receives = d.setRefs(receivesNode, "receives", d.msgs)
	}
	if sendsNode != nil {
		p.Sends = d.setRefs(sendsNode, "sends", d.msgs)
	}
	if clientNode != nil {
		if name, ok := d.str(clientNode, "client"); ok && d.checkExported(clientNode, "client", name) {
			p.Client = name
			// sends or receives that name no set they know were reported
			// there; the client's check would only say to give them.
			if (sendsNode == nil || len(p.Sends) > 0) && (receivesNode == nil || len(p.Receives) > 0) {
				d.checkClient(p, clientNode)
			}
		}
	}
	// A protocol that receives messages is framed by its framing or by its
	// sets; checkProtocolMessages reports a set that lacks either.
	if given["frame_timeout"] && !given["framing"] && !given["receives"] {
		d.errorf(frameTimeoutKey, "frame_timeout times the frames that framing splits: add framing, such as \"framing: {length: {size: 4, max: 1MiB}}\"")
	}
	d.checkHookNeeds(p, given)
	d.checkProtocolMessages(p, given, receivesNode)
	for _, m := range p.ReceivedMessages() {
		if p.Client != "" {
			break // the client's calls take what the protocol receives
		}
		info := hookInfos[MessageReceived]
		p.Hooks = append(p.Hooks, &Hook{Kind: MessageReceived, Pos: m.Pos, SpecName: "message " + m.Name, Doc: info.doc, Message: m})
	}
	for _, m := range p.SentMessages() {
		if m.Set.FrameLength == nil && m.Block() == nil {
			p.SendCodec = lowerFirst(p.Name) + "SendCodec"
		}
	}
	p.Members = declareMembers(p)
	for _, h := range p.Hooks {
		h.Runner, h.User = p.HookRunner(h.Kind), p.UserHook(h.Kind)
		if h.Message != nil {
			h.User = p.typeMember(h.Message.Hook)
		}
		if h.User != nil {
			h.StubBody = p.stubBody(h.Kind)
		}
	}
	d.checkFieldNames(p)
	d.checkMemberClashes(p)
	if !valid {
		return nil
	}
	return p
}

// checkHookNeeds reports hooks that lack what they hook (frame_received
// without framing, say) and framing without its hook.
func (d *decoder) checkHookNeeds(p *Protocol, given map[string]bool) {
	for _, h := range p.Hooks {
		switch h.Kind {
		case FrameReceived:
			if !given["framing"] {
				d.errorAt(h.Pos, "hook frame_received needs framing: add framing, such as \"framing: {line: {max: 8KiB}}\"")
			}
		case DataReceived:
			if given["framing"] {
				d.errorAt(h.Pos, "hook data_received: a framed protocol receives frames; use frame_received in its place")
			}
		case StateChanged:
			switch {
			case !given["machine"]:
				d.errorAt(h.Pos, "hook state_changed needs a state machine: add machine")
			}
		case Timeout:
			if !given["read_timeout"] && !given["idle_timeout"] && !given["frame_timeout"] {
				d.errorAt(h.Pos, "hook timeout needs read_timeout, idle_timeout or frame_timeout")
			}
		}
	}
	if p.Framing != nil && p.Hook(FrameReceived) == nil && !given["receives"] {
		d.errorAt(p.Framing.Pos, "framing: add the frame_received hook, which receives the frames, or receives, a set of messages to decode them into")
	}
}

// field decodes one state field.
func (d *decoder) field(n *yaml.Node) *Field {
	f := &Field{Pos: posOf(n)}
	var named, typed bool
	if !d.mapping(n, "field", fieldKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			named = true
			if name, ok := d.str(v, "field name"); ok {
				f.Pos = posOf(v)
				if d.checkIdent(v, "field name", name) {
					f.Name = name
				}
			}
		case "type":
			typed = true
			f.TypePos = posOf(v)
			src, ok := d.str(v, "field type")
			if !ok {
				return
			}
			t, err := ParseType(src)
			if err != nil {
				d.errorf(v, "field type %q: %v", src, err)
				return
			}
			f.Type = t
		case "doc":
			if !isNull(v) {
				f.Doc = d.doc(v)
			}
		}
	}) {
		return nil
	}
	if !named {
		d.missingf(n, "field: missing name")
	}
	if !typed {
		d.missingf(n, "field: missing type")
	}
	if f.Name == "" {
		return nil // a field with a bad type still takes part in the name checks
	}
	return f
}

// hooks decodes a protocol's hook list.
func (d *decoder) hooks(n *yaml.Node, p *Protocol) {
	declared := make(map[HookKind]Pos)
	d.sequence(n, "hooks", func(item *yaml.Node) {
		name, ok := d.str(item, "hook")
		if !ok {
			return
		}
		kind, ok := HookBySpecName(name)
		if !ok {
			d.errorf(item, "unknown hook %q%s (hooks are %s)", name, didYouMean(name, hookSpecNames()), listWords(hookSpecNames()))
			return
		}
		if first, dup := declared[kind]; dup {
			d.errorf(item, "hook %s listed twice (first at %v)", name, first)
			return
		}
		declared[kind] = posOf(item)
	})
	for _, kind := range AllHooks() {
		if pos, ok := declared[kind]; ok {
			info := hookInfos[kind]
			p.Hooks = append(p.Hooks, &Hook{Kind: kind, Pos: pos, SpecName: info.specName, Doc: info.doc})
		}
	}
}

// flow decodes the write-buffer limits. A missing low is high/4 and a
// missing high is 4×low, as in asyncio.
func (d *decoder) flow(n *yaml.Node, p *Protocol) {
	if isNull(n) {
		return
	}
	high, low := -1, -1
	var highNode, lowNode *yaml.Node
	pauseGiven := false
	if !d.mapping(n, "flow", flowKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "high_water":
			highNode = v
			if size, ok := d.size(v, "high_water"); ok {
				high = size
			}
		case "low_water":
			lowNode = v
			if size, ok := d.size(v, "low_water"); ok {
				low = size
			}
		case "pause_reading":
			pauseGiven = true
			p.PauseReadingWithWriting, _ = d.boolean(v, "flow: pause_reading")
		}
	}) {
		return
	}
	switch {
	case highNode == nil && lowNode == nil && pauseGiven:
		return // the transport's default marks
	case highNode == nil && lowNode == nil:
		d.errorf(n, "flow: set high_water, low_water, pause_reading or several")
		return
	case highNode != nil && high < 0 || lowNode != nil && low < 0:
		return // already reported
	case highNode == nil:
		if low > math.MaxInt32/4 {
			d.errorf(lowNode, "flow: low_water %d implies a high_water of 4 × %d, which is too large; set high_water", low, low)
			return
		}
		high = 4 * low
	case lowNode == nil:
		low = high / 4
	}
	if low > high {
		d.errorf(lowNode, "flow: low_water (%d) is above high_water (%d)", low, high)
		return
	}
	p.HighWater, p.LowWater = high, low
}

func listWords(words []string) string {
	s := ""
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			s += " and "
		default:
			s += ", "
		}
		s += w
	}
	return s
}
