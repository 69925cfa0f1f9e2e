package conform

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Shell lines (packetdrill's command_spec: the init command, timed
// backquoted lines and the cleanup command). The Linux backend runs them
// with sh inside its namespace, in the script's directory, as
// packetdrill does. The threeway backend has no shell: it reads the
// lines as simple commands and maps the ones it understands (sysctl
// settings, directly or through defaults.sh and set_sysctls.py); any
// other command is a failure that names it, so a script never passes
// on a line it did not run.

// shellCommand is one simple command of a shell line: its words after
// quote removal and $((...)) expansion, redirections dropped.
type shellCommand struct {
	words []string
	text  string
}

// splitShell splits a shell line into simple commands at newlines, ';',
// '&&' and '||' outside quotes; a backslash-newline joins lines.
func splitShell(line string) ([]shellCommand, error) {
	line = strings.ReplaceAll(line, "\\\n", " ")
	var cmds []shellCommand
	var words []string
	var cur strings.Builder
	inWord := false
	start := 0
	flush := func(end int) {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
		if end >= 0 {
			if len(words) > 0 {
				cmds = append(cmds, shellCommand{words: dropRedirections(words), text: strings.TrimSpace(line[start:end])})
			}
			words = nil
			start = end + 1
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\n' || c == ';':
			flush(i)
		case (c == '&' || c == '|') && i+1 < len(line) && line[i+1] == c:
			flush(i)
			i++
			start = i + 1
		case c == ' ' || c == '\t':
			flush(-1)
		case c == '#' && !inWord:
			// A comment runs to the end of the line.
			for i+1 < len(line) && line[i+1] != '\n' {
				i++
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' in shell line")
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case c == '"':
			end := strings.IndexByte(line[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated \" in shell line")
			}
			s, err := expandArith(line[i+1 : i+1+end])
			if err != nil {
				return nil, err
			}
			cur.WriteString(s)
			inWord = true
			i += end + 1
		case c == '$' && strings.HasPrefix(line[i:], "$(("):
			end := strings.Index(line[i:], "))")
			if end < 0 {
				return nil, fmt.Errorf("unterminated $(( in shell line")
			}
			s, err := expandArith(line[i : i+end+2])
			if err != nil {
				return nil, err
			}
			cur.WriteString(s)
			inWord = true
			i += end + 1
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush(len(line))
	return cmds, nil
}

// dropRedirections removes "> file", ">/dev/null", "2>&1" and the like.
func dropRedirections(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		w := strings.TrimLeft(words[i], "0123456789")
		if strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") {
			if w == ">" || w == ">>" || w == "<" {
				i++ // the file is the next word
			}
			continue
		}
		out = append(out, words[i])
	}
	return out
}

// expandArith expands $((a*b+c)) in s: integers with + - * /.
func expandArith(s string) (string, error) {
	for {
		i := strings.Index(s, "$((")
		if i < 0 {
			return s, nil
		}
		j := strings.Index(s[i:], "))")
		if j < 0 {
			return "", fmt.Errorf("unterminated $(( in %q", s)
		}
		v, err := arith(s[i+3 : i+j])
		if err != nil {
			return "", err
		}
		s = s[:i] + strconv.FormatInt(v, 10) + s[i+j+2:]
	}
}

// arith evaluates integers joined by + - * / left to right, * and /
// first.
func arith(e string) (int64, error) {
	e = strings.ReplaceAll(e, " ", "")
	var sum int64
	sign := int64(1)
	for _, term := range splitKeep(e, "+-") {
		if term == "+" {
			sign = 1
			continue
		}
		if term == "-" {
			sign = -1
			continue
		}
		prod := int64(1)
		op := byte('*')
		for _, f := range splitKeep(term, "*/") {
			if f == "*" || f == "/" {
				op = f[0]
				continue
			}
			n, err := strconv.ParseInt(f, 0, 64)
			if err != nil {
				return 0, fmt.Errorf("bad number %q in $((%s))", f, e)
			}
			if op == '*' {
				prod *= n
			} else if n != 0 {
				prod /= n
			}
		}
		sum += sign * prod
	}
	return sum, nil
}

// splitKeep splits s at any of seps, keeping each separator as a part.
func splitKeep(s, seps string) []string {
	var out []string
	last := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(seps, s[i]) >= 0 {
			if i > last {
				out = append(out, s[last:i])
			}
			out = append(out, s[i:i+1])
			last = i + 1
		}
	}
	if last < len(s) {
		out = append(out, s[last:])
	}
	return out
}

// resolveTextLink follows a symbolic link that a checkout stored as a
// small text file holding the target's path (git does so without
// symlink support): path if it is not one.
func resolveTextLink(path string) string {
	for range 4 {
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 256 || st.Mode()&0o111 != 0 {
			return path
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return path
		}
		target := strings.TrimSpace(string(b))
		if target == "" || strings.ContainsAny(target, " \n\t") {
			return path
		}
		next := filepath.Join(filepath.Dir(path), target)
		if _, err := os.Stat(next); err != nil {
			return path
		}
		path = next
	}
	return path
}

// resolveLinksInLine rewrites each word of a shell line that names a
// text-stored link (relative to dir) into its target.
func resolveLinksInLine(line, dir string) string {
	fields := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == ';' })
	for _, f := range fields {
		if !strings.Contains(f, "/") || strings.ContainsAny(f, "$\"'=") {
			continue
		}
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if r := resolveTextLink(p); r != p {
			rel, err := filepath.Rel(dir, r)
			if err != nil {
				rel = r
			}
			if !strings.HasPrefix(rel, "/") && !strings.HasPrefix(rel, ".") {
				rel = "./" + rel
			}
			line = strings.Replace(line, f, rel, 1)
		}
	}
	return line
}

// shellHost is what interpretShell runs a line's commands with.
type shellHost struct {
	// set applies one sysctl; ok is false if there is no equivalent.
	set func(name, value string) (ok bool, err error)
	// other runs a command that is not a setting (nil: none can run).
	other func(c shellCommand) error
	note  func(string, ...any)
}

// interpretShell runs a shell line command by command: sysctl settings
// (sysctl, set_sysctls.py's /proc/sys assignments, the lines of a
// defaults.sh) go to h.set; other commands to h.other, or, without one,
// the ones that mean nothing without a kernel (flushing TCP metrics, a
// plain FIFO qdisc, restoring sysctls) are noted and anything else is
// an error naming it. As with sh, only the last command's failure fails
// the line.
func interpretShell(line, dir string, h shellHost, depth int) error {
	cmds, err := splitShell(line)
	if err != nil {
		return err
	}
	var last error
	for _, c := range cmds {
		last = interpretCommand(c, dir, h, depth)
		if last != nil && h.other == nil {
			return last
		}
		if last != nil {
			h.note("%v", last)
		}
	}
	return last
}

func interpretCommand(c shellCommand, dir string, h shellHost, depth int) error {
	w := c.words
	if len(w) == 0 || strings.HasPrefix(w[0], "#") {
		return nil
	}
	apply := func(name, value string) error {
		ok, err := h.set(name, value)
		if err != nil {
			return err
		}
		if !ok {
			h.note("sysctl %s=%s has no equivalent here: not applied", name, value)
		}
		return nil
	}
	base := filepath.Base(w[0])
	switch {
	case w[0] == "sysctl" && !strings.Contains(c.text, "|"):
		var errs []string
		for _, a := range w[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				if h.other != nil {
					return h.other(c)
				}
				return fmt.Errorf("unsupported on threeway: %q (sysctl without a value)", c.text)
			}
			if err := apply(strings.ReplaceAll(k, "/", "."), v); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	case base == "set_sysctls.py":
		for _, a := range w[1:] {
			k, v, ok := strings.Cut(a, "=")
			if !ok || !strings.HasPrefix(k, "/proc/sys/") {
				return fmt.Errorf("unsupported: %q", c.text)
			}
			if err := apply(strings.ReplaceAll(strings.TrimPrefix(k, "/proc/sys/"), "/", "."), v); err != nil {
				return err
			}
		}
		return nil
	case strings.HasPrefix(w[0], "/tmp/sysctl_restore_"):
		h.note("%s: nothing to restore (each run has settings of its own)", c.text)
		return nil
	case base == "defaults.sh" && depth < 4:
		p := resolveTextLink(filepath.Join(dir, w[0]))
		if filepath.IsAbs(w[0]) {
			p = resolveTextLink(w[0])
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("%s: %v", c.text, err)
		}
		return interpretShell(string(b), filepath.Dir(p), h, depth+1)
	case h.other != nil:
		return h.other(c)
	case w[0] == "ip" && len(w) >= 3 && w[1] == "tcp_metrics" && w[2] == "flush":
		h.note("%s: threeway keeps no per-destination TCP metrics", c.text)
		return nil
	case w[0] == "tc" && len(w) >= 2 && w[1] == "qdisc" && !strings.Contains(c.text, "limit"):
		h.note("%s: threeway writes straight to its link, with no queueing discipline", c.text)
		return nil
	}
	return fmt.Errorf("unsupported on threeway: shell command %q", c.text)
}
