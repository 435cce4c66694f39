package redis

import (
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// command is an entry of the command table, as Redis 7 describes its
// commands (COMMAND INFO and COMMAND DOCS show these fields).
type command struct {
	name  string // lower case; "config|get" for a subcommand
	arity int    // n: exactly n arguments, the name included; -n: at least n
	flags []string
	// The positions of the first and last key arguments and the step
	// between keys; last -1 means the last argument.
	firstKey, lastKey, step int
	categories              []string
	group, since, summary   string
	complexity              string

	run  func(p *Server, args [][]byte)
	subs map[string]*command // a container command's subcommands
}

// commandList is the command table. It is filled in init, as COMMAND's
// own function reads it.
var (
	commandList []*command
	commands    map[string]*command
)

func init() {
	commandList = []*command{
		{name: "ping", arity: -1, flags: []string{"fast"}, categories: []string{"@fast", "@connection"},
			group: "connection", since: "1.0.0", summary: "Returns the server's liveliness response.", complexity: "O(1)", run: (*Server).ping},
		{name: "echo", arity: 2, flags: []string{"fast"}, categories: []string{"@fast", "@connection"},
			group: "connection", since: "1.0.0", summary: "Returns the given string.", complexity: "O(1)", run: (*Server).echo},
		{name: "quit", arity: -1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}, categories: []string{"@fast", "@connection"},
			group: "connection", since: "1.0.0", summary: "Closes the connection.", complexity: "O(1)", run: (*Server).quit},
		{name: "get", arity: 2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: 1, step: 1, categories: []string{"@read", "@string", "@fast"},
			group: "string", since: "1.0.0", summary: "Returns the string value of a key.", complexity: "O(1)", run: (*Server).get},
		{name: "set", arity: -3, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@slow"},
			group: "string", since: "1.0.0", summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", complexity: "O(1)", run: (*Server).set},
		{name: "mget", arity: -2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: -1, step: 1, categories: []string{"@read", "@string", "@fast"},
			group: "string", since: "1.0.0", summary: "Atomically returns the string values of one or more keys.", complexity: "O(N) where N is the number of keys to retrieve.", run: (*Server).mget},
		{name: "mset", arity: -3, flags: []string{"write", "denyoom"}, firstKey: 1, lastKey: -1, step: 2, categories: []string{"@write", "@string", "@slow"},
			group: "string", since: "1.0.1", summary: "Atomically creates or modifies the string values of one or more keys.", complexity: "O(N) where N is the number of keys to set.", run: (*Server).mset},
		{name: "incr", arity: 2, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			group: "string", since: "1.0.0", summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", complexity: "O(1)", run: (*Server).incr},
		{name: "decr", arity: 2, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			group: "string", since: "1.0.0", summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", complexity: "O(1)", run: (*Server).decr},
		{name: "incrby", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			group: "string", since: "1.0.0", summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", complexity: "O(1)", run: (*Server).incrby},
		{name: "decrby", arity: 3, flags: []string{"write", "denyoom", "fast"}, firstKey: 1, lastKey: 1, step: 1, categories: []string{"@write", "@string", "@fast"},
			group: "string", since: "1.0.0", summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", complexity: "O(1)", run: (*Server).decrby},
		{name: "del", arity: -2, flags: []string{"write"}, firstKey: 1, lastKey: -1, step: 1, categories: []string{"@keyspace", "@write", "@slow"},
			group: "generic", since: "1.0.0", summary: "Deletes one or more keys.", complexity: "O(N) where N is the number of keys that will be removed.", run: (*Server).del},
		{name: "exists", arity: -2, flags: []string{"readonly", "fast"}, firstKey: 1, lastKey: -1, step: 1, categories: []string{"@keyspace", "@read", "@fast"},
			group: "generic", since: "1.0.0", summary: "Determines whether one or more keys exist.", complexity: "O(N) where N is the number of keys to check.", run: (*Server).exists},
		{name: "dbsize", arity: 1, flags: []string{"readonly", "fast"}, categories: []string{"@keyspace", "@read", "@fast"},
			group: "server", since: "1.0.0", summary: "Returns the number of keys in the database.", complexity: "O(1)", run: (*Server).dbsize},
		{name: "flushall", arity: -1, flags: []string{"write"}, categories: []string{"@keyspace", "@write", "@slow", "@dangerous"},
			group: "server", since: "1.0.0", summary: "Removes all keys from all databases.", complexity: "O(N) where N is the total number of keys in all databases", run: (*Server).flushall},
		{name: "command", arity: -1, flags: []string{"loading", "stale"}, categories: []string{"@slow", "@connection"},
			group: "server", since: "2.8.13", summary: "Returns detailed information about all commands.", complexity: "O(N) where N is the total number of Redis commands", run: (*Server).commandInfoAll,
			subs: subcommands("command",
				&command{name: "count", arity: 2, flags: []string{"loading", "stale"}, categories: []string{"@slow", "@connection"},
					group: "server", since: "2.8.13", summary: "Returns a count of commands.", complexity: "O(1)", run: (*Server).commandCount},
				&command{name: "docs", arity: -2, flags: []string{"loading", "stale"}, categories: []string{"@slow", "@connection"},
					group: "server", since: "7.0.0", summary: "Returns documentary information about one, multiple or all commands.", complexity: "O(N) where N is the number of commands to look up", run: (*Server).commandDocs},
				&command{name: "info", arity: -2, flags: []string{"loading", "stale"}, categories: []string{"@slow", "@connection"},
					group: "server", since: "2.8.13", summary: "Returns information about one, multiple or all commands.", complexity: "O(N) where N is the number of commands to look up", run: (*Server).commandInfo},
			)},
		{name: "config", arity: -2, categories: []string{"@slow"},
			group: "server", since: "2.0.0", summary: "A container for server configuration commands.", complexity: "Depends on subcommand.",
			subs: subcommands("config",
				&command{name: "get", arity: -3, flags: []string{"admin", "noscript", "loading", "stale"}, categories: []string{"@admin", "@slow", "@dangerous"},
					group: "server", since: "2.0.0", summary: "Returns the effective values of configuration parameters.", complexity: "O(N) when N is the number of configuration parameters provided", run: (*Server).configGet},
			)},
	}
	commands = make(map[string]*command, len(commandList))
	for _, c := range commandList {
		commands[c.name] = c
	}
}

// subcommands names each subcommand "parent|name" and returns them by name.
func subcommands(parent string, subs ...*command) map[string]*command {
	m := make(map[string]*command, len(subs))
	for _, s := range subs {
		m[s.name] = s
		s.name = parent + "|" + s.name
	}
	return m
}

// lookup finds name in table, ignoring ASCII case, without allocating.
func lookup(table map[string]*command, name []byte) *command {
	var lower [16]byte
	if len(name) > len(lower) {
		return nil
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return table[string(lower[:len(name)])]
}

// exec runs the command args, which has at least its name, and appends
// its reply to p.out. Unknown commands and subcommands and a wrong number
// of arguments get Redis's errors, word for word.
func (p *Server) exec(args [][]byte) {
	cmd := lookup(commands, args[0])
	if cmd == nil {
		p.unknownCommand(args)
		return
	}
	if cmd.subs != nil && len(args) >= 2 {
		sub := lookup(cmd.subs, args[1])
		if sub == nil {
			p.out = append(p.out, "-ERR unknown subcommand '"...)
			p.out, _ = appendQuoted(p.out, args[1], 128)
			p.out = append(p.out, "'. Try "...)
			p.out = append(p.out, strings.ToUpper(cmd.name)...)
			p.out = append(p.out, " HELP.\r\n"...)
			return
		}
		cmd = sub
	}
	if cmd.arity > 0 && len(args) != cmd.arity || len(args) < -cmd.arity {
		p.arityError(cmd.name)
		return
	}
	cmd.run(p, args)
}

// unknownCommand appends Redis's error for an unknown command, which
// quotes the name and the first 128 bytes or so of the arguments.
func (p *Server) unknownCommand(args [][]byte) {
	p.out = append(p.out, "-ERR unknown command '"...)
	p.out, _ = appendQuoted(p.out, args[0], 128)
	p.out = append(p.out, "', with args beginning with: "...)
	printed := 0
	for _, a := range args[1:] {
		if printed >= 128 {
			break
		}
		var n int
		p.out = append(p.out, '\'')
		p.out, n = appendQuoted(p.out, a, 128-printed)
		p.out = append(p.out, "' "...)
		printed += n + 3
	}
	p.out = append(p.out, '\r', '\n')
}

func (p *Server) arityError(name string) {
	p.out = append(p.out, "-ERR wrong number of arguments for '"...)
	p.out = append(p.out, name...)
	p.out = append(p.out, "' command\r\n"...)
}

// Errors in Redis's words.
const (
	msgSyntax     = "syntax error"
	msgNotInteger = "value is not an integer or out of range"
	msgOverflow   = "increment or decrement would overflow"
	msgExpireSet  = "invalid expire time in 'set' command"
)

func (p *Server) ping(args [][]byte) {
	switch len(args) {
	case 1:
		p.out = append(p.out, replyPong...)
	case 2:
		p.out = appendBulk(p.out, args[1])
	default:
		p.arityError("ping")
	}
}

func (p *Server) echo(args [][]byte) { p.out = appendBulk(p.out, args[1]) }

// quit answers OK; the connection closes once the reply is written, and
// the commands after it are not run.
func (p *Server) quit([][]byte) {
	p.out = append(p.out, replyOK...)
	p.closing = true
}

func (p *Server) get(args [][]byte) {
	db := p.db
	db.mu.RLock()
	if e := db.live(args[1]); e != nil {
		p.appendValue(e.val)
	} else {
		p.out = append(p.out, replyNil...)
	}
	db.mu.RUnlock()
}

func (p *Server) mget(args [][]byte) {
	db := p.db
	p.out = appendArray(p.out, len(args)-1)
	db.mu.RLock()
	for _, key := range args[1:] {
		if e := db.live(key); e != nil {
			p.appendValue(e.val)
		} else {
			p.out = append(p.out, replyNil...)
		}
	}
	db.mu.RUnlock()
}

// SET options, as Redis's parseExtendedStringArgumentsOrReply names them.
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT

	setExpiry = setEX | setPX | setEXAT | setPXAT
)

// set is SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms |
// KEEPTTL], with Redis's rules on which options go together and in what
// order it reports errors.
func (p *Server) set(args [][]byte) {
	var flags int
	var expire []byte
	for j := 3; j < len(args); j++ {
		opt, more := args[j], j+1 < len(args)
		var f int
		switch {
		case equalFold(opt, "nx") && flags&setXX == 0:
			f = setNX
		case equalFold(opt, "xx") && flags&setNX == 0:
			f = setXX
		case equalFold(opt, "get"):
			f = setGet
		case equalFold(opt, "keepttl") && flags&setExpiry == 0:
			f = setKeepTTL
		case equalFold(opt, "ex") && flags&(setKeepTTL|setExpiry&^setEX) == 0 && more:
			f = setEX
		case equalFold(opt, "px") && flags&(setKeepTTL|setExpiry&^setPX) == 0 && more:
			f = setPX
		case equalFold(opt, "exat") && flags&(setKeepTTL|setExpiry&^setEXAT) == 0 && more:
			f = setEXAT
		case equalFold(opt, "pxat") && flags&(setKeepTTL|setExpiry&^setPXAT) == 0 && more:
			f = setPXAT
		default:
			p.out = appendError(p.out, msgSyntax)
			return
		}
		flags |= f
		if f&setExpiry != 0 {
			j++
			expire = args[j]
		}
	}
	var expireAt int64
	if expire != nil {
		ms, ok := parseInt(expire)
		if !ok {
			p.out = appendError(p.out, msgNotInteger)
			return
		}
		seconds := flags&(setEX|setEXAT) != 0
		if ms <= 0 || seconds && ms > math.MaxInt64/1000 {
			p.out = appendError(p.out, msgExpireSet)
			return
		}
		if seconds {
			ms *= 1000
		}
		if flags&(setEX|setPX) != 0 {
			ms += now() // may overflow to a negative time, refused below
		}
		if ms <= 0 {
			p.out = appendError(p.out, msgExpireSet)
			return
		}
		expireAt = ms
	}

	db := p.db
	key := args[1]
	db.mu.Lock()
	defer db.mu.Unlock()
	old := db.liveLocked(key)
	if flags&setGet != 0 {
		if old != nil {
			p.appendValue(old.val)
		} else {
			p.out = append(p.out, replyNil...)
		}
	}
	if flags&setNX != 0 && old != nil || flags&setXX != 0 && old == nil {
		if flags&setGet == 0 {
			p.out = append(p.out, replyNil...)
		}
		return
	}
	if flags&setKeepTTL != 0 && old != nil {
		expireAt = old.expireAt
	}
	db.setLocked(key, args[2], expireAt)
	if flags&setGet == 0 {
		p.out = append(p.out, replyOK...)
	}
}

func (p *Server) mset(args [][]byte) {
	if len(args)%2 == 0 {
		p.arityError("mset")
		return
	}
	db := p.db
	db.mu.Lock()
	for i := 1; i < len(args); i += 2 {
		db.setLocked(args[i], args[i+1], 0)
	}
	db.mu.Unlock()
	p.out = append(p.out, replyOK...)
}

func (p *Server) incr(args [][]byte) { p.incrBy(args[1], 1) }
func (p *Server) decr(args [][]byte) { p.incrBy(args[1], -1) }

func (p *Server) incrby(args [][]byte) {
	by, ok := parseInt(args[2])
	if !ok {
		p.out = appendError(p.out, msgNotInteger)
		return
	}
	p.incrBy(args[1], by)
}

func (p *Server) decrby(args [][]byte) {
	by, ok := parseInt(args[2])
	switch {
	case !ok:
		p.out = appendError(p.out, msgNotInteger)
		return
	case by == math.MinInt64:
		p.out = appendError(p.out, "decrement would overflow")
		return
	}
	p.incrBy(args[1], -by)
}

// incrBy adds by to the integer at key (0 if missing), keeping its expiry
// time, and replies with the result.
func (p *Server) incrBy(key []byte, by int64) {
	db := p.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var v, expireAt int64
	if e := db.liveLocked(key); e != nil {
		var ok bool
		if v, ok = parseInt(e.val); !ok {
			p.out = appendError(p.out, msgNotInteger)
			return
		}
		expireAt = e.expireAt
	}
	if by < 0 && v < 0 && by < math.MinInt64-v || by > 0 && v > 0 && by > math.MaxInt64-v {
		p.out = appendError(p.out, msgOverflow)
		return
	}
	v += by
	var digits [20]byte
	db.setLocked(key, strconv.AppendInt(digits[:0], v, 10), expireAt)
	p.out = appendInt(p.out, v)
}

func (p *Server) del(args [][]byte) {
	db := p.db
	n := 0
	db.mu.Lock()
	for _, key := range args[1:] {
		if db.liveLocked(key) != nil {
			delete(db.m, string(key))
			n++
		}
	}
	db.mu.Unlock()
	p.out = appendInt(p.out, int64(n))
}

func (p *Server) exists(args [][]byte) {
	db := p.db
	n := 0
	db.mu.RLock()
	for _, key := range args[1:] {
		if db.live(key) != nil {
			n++
		}
	}
	db.mu.RUnlock()
	p.out = appendInt(p.out, int64(n))
}

func (p *Server) dbsize([][]byte) { p.out = appendInt(p.out, int64(p.db.Len())) }

func (p *Server) flushall(args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async") {
		p.out = appendError(p.out, msgSyntax)
		return
	}
	db := p.db
	db.mu.Lock()
	clear(db.m)
	db.mu.Unlock()
	p.out = append(p.out, replyOK...)
}

// commandInfoAll is COMMAND: the information of every command.
func (p *Server) commandInfoAll([][]byte) {
	p.out = appendArray(p.out, len(commandList))
	for _, c := range commandList {
		p.out = appendCommandInfo(p.out, c)
	}
}

func (p *Server) commandCount([][]byte) { p.out = appendInt(p.out, int64(len(commandList))) }

// commandInfo is COMMAND INFO [name ...]: every command without names, and
// nil for a name that is not a command.
func (p *Server) commandInfo(args [][]byte) {
	if len(args) == 2 {
		p.commandInfoAll(args)
		return
	}
	p.out = appendArray(p.out, len(args)-2)
	for _, name := range args[2:] {
		if c := lookup(commands, name); c != nil {
			p.out = appendCommandInfo(p.out, c)
		} else {
			p.out = append(p.out, "*-1\r\n"...)
		}
	}
}

// appendCommandInfo appends the ten fields of Redis 7's COMMAND INFO.
func appendCommandInfo(out []byte, c *command) []byte {
	out = appendArray(out, 10)
	out = appendBulkString(out, c.name)
	out = appendInt(out, int64(c.arity))
	out = appendArray(out, len(c.flags))
	for _, f := range c.flags {
		out = appendStatus(out, f)
	}
	out = appendInt(out, int64(c.firstKey))
	out = appendInt(out, int64(c.lastKey))
	out = appendInt(out, int64(c.step))
	out = appendArray(out, len(c.categories))
	for _, cat := range c.categories {
		out = appendStatus(out, cat)
	}
	out = appendArray(out, 0) // tips
	out = appendArray(out, 0) // key specifications
	out = appendArray(out, len(c.subs))
	for _, s := range sortedSubs(c) {
		out = appendCommandInfo(out, s)
	}
	return out
}

// commandDocs is COMMAND DOCS [name ...], which redis-cli asks for at
// start: a map from each command's name to its summary, version, group
// and complexity. A name that is not a command is left out.
func (p *Server) commandDocs(args [][]byte) {
	var list []*command
	if len(args) == 2 {
		list = commandList
	} else {
		for _, name := range args[2:] {
			if c := lookup(commands, name); c != nil {
				list = append(list, c)
			}
		}
	}
	p.out = appendArray(p.out, 2*len(list))
	for _, c := range list {
		p.out = appendBulkString(p.out, c.name)
		p.out = appendCommandDocs(p.out, c)
	}
}

func appendCommandDocs(out []byte, c *command) []byte {
	n := 8
	if c.subs != nil {
		n += 2
	}
	out = appendArray(out, n)
	for _, kv := range [...]string{"summary", c.summary, "since", c.since, "group", c.group, "complexity", c.complexity} {
		out = appendBulkString(out, kv)
	}
	if c.subs != nil {
		subs := sortedSubs(c)
		out = appendBulkString(out, "subcommands")
		out = appendArray(out, 2*len(subs))
		for _, s := range subs {
			out = appendBulkString(out, s.name)
			out = appendCommandDocs(out, s)
		}
	}
	return out
}

// sortedSubs returns c's subcommands in the order of their names.
func sortedSubs(c *command) []*command {
	names := slices.Sorted(maps.Keys(c.subs))
	subs := make([]*command, len(names))
	for i, name := range names {
		subs[i] = c.subs[name]
	}
	return subs
}

// configGet is CONFIG GET parameter [parameter ...]. A parameter is a
// name, answered under the name as given when it exists, or a glob
// pattern, answered with every parameter it matches; like Redis, case is
// ignored and each parameter is given once.
func (p *Server) configGet(args [][]byte) {
	type pair struct{ name, value string }
	var found []pair
	seen := make(map[string]bool)
	for _, arg := range args[2:] {
		pattern := strings.ToLower(string(arg))
		glob := strings.ContainsAny(pattern, "*?[")
		for _, c := range p.configs() {
			if seen[c.name] {
				continue
			}
			if glob {
				if ok, _ := path.Match(pattern, c.name); ok {
					seen[c.name] = true
					found = append(found, pair{c.name, c.value})
				}
			} else if pattern == c.name {
				seen[c.name] = true
				found = append(found, pair{string(arg), c.value})
			}
		}
	}
	p.out = appendArray(p.out, 2*len(found))
	for _, f := range found {
		p.out = appendBulkString(p.out, f.name)
		p.out = appendBulkString(p.out, f.value)
	}
}

// configs returns the parameters that CONFIG GET knows: enough for
// redis-benchmark, which asks for save and appendonly, and the limits.
func (p *Server) configs() []struct{ name, value string } {
	l := p.db.limits
	return []struct{ name, value string }{
		{"appendonly", "no"},
		{"client-query-buffer-limit", strconv.Itoa(l.MaxCommandLen)},
		{"databases", "1"},
		{"maxmemory", "0"},
		{"proto-max-bulk-len", strconv.Itoa(l.MaxBulkLen)},
		{"save", ""},
		{"timeout", "0"},
	}
}

// equalFold reports whether b is s, ignoring ASCII case, without
// allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
