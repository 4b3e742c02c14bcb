// Package serverlog reads a PostgreSQL server log in any of its three
// formats (jsonlog, csvlog, and stderr with its log_line_prefix) into
// [Entry] values, and tells what an entry says about a session: an
// authenticated connection ([Entry.Authorized]), the statement a backend
// ran ([Entry.RanStatement]), a server process that died of a signal
// ([Entry.Terminated]).
//
// It is how the tools tie a pid in a seccomp audit record to a role, a
// database, an application and a statement: record uses it to learn the
// role of each backend, watch to attribute each violation.
package serverlog

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format is the layout of a server log.
type Format uint8

const (
	// JSON is log_destination = jsonlog (PostgreSQL 15+): one JSON object a line.
	JSON Format = iota + 1
	// CSV is log_destination = csvlog: one CSV record (which may span
	// lines) an entry.
	CSV
	// Stderr is log_destination = stderr: each line starts with
	// log_line_prefix, then "SEVERITY:  message"; DETAIL, STATEMENT and
	// the like follow on lines of their own, continuation lines start
	// with a tab.
	Stderr
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "jsonlog"
	case CSV:
		return "csvlog"
	case Stderr:
		return "stderr"
	}
	return fmt.Sprintf("Format(%d)", f)
}

// FormatOf tells a log file's format from its name, as PostgreSQL names
// them (.json, .csv, anything else stderr).
func FormatOf(path string) Format {
	switch {
	case strings.HasSuffix(path, ".json"):
		return JSON
	case strings.HasSuffix(path, ".csv"):
		return CSV
	}
	return Stderr
}

// Entry is one message of the server log. Fields the log does not give
// are empty (stderr gives only what its log_line_prefix has).
type Entry struct {
	Time        time.Time
	PID         int
	User        string
	Database    string
	Application string
	Host        string // the client's address, without its port
	BackendType string // jsonlog and csvlog only
	LeaderPID   int    // a parallel worker's leader (jsonlog and csvlog)
	Severity    string // LOG, ERROR, FATAL, PANIC, ...
	Message     string
	Detail      string
	Statement   string // the statement the message is about, if logged
}

// jsonEntry is a jsonlog line (src/backend/utils/error/jsonlog.c).
type jsonEntry struct {
	Timestamp   string `json:"timestamp"`
	User        string `json:"user"`
	DBName      string `json:"dbname"`
	PID         int    `json:"pid"`
	RemoteHost  string `json:"remote_host"`
	Severity    string `json:"error_severity"`
	Message     string `json:"message"`
	Detail      string `json:"detail"`
	Statement   string `json:"statement"`
	Application string `json:"application_name"`
	BackendType string `json:"backend_type"`
	LeaderPID   int    `json:"leader_pid"`
}

// timeLayouts are the layouts of %m, %t and the logs' timestamps.
var timeLayouts = []string{"2006-01-02 15:04:05.000 MST", "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05.000 -07", "2006-01-02 15:04:05 -07"}

// ParseTime reads a server log timestamp (%m or %t, as jsonlog and
// csvlog write them); the zero time if it does not parse.
func ParseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// ParseJSON parses one jsonlog line.
func ParseJSON(line []byte) (Entry, error) {
	var j jsonEntry
	if err := json.Unmarshal(line, &j); err != nil {
		return Entry{}, fmt.Errorf("not a jsonlog line: %w", err)
	}
	return Entry{
		Time: ParseTime(j.Timestamp), PID: j.PID, User: j.User, Database: j.DBName,
		Application: j.Application, Host: j.RemoteHost, BackendType: j.BackendType,
		LeaderPID: j.LeaderPID, Severity: j.Severity, Message: j.Message,
		Detail: j.Detail, Statement: j.Statement,
	}, nil
}

// csvlog's columns (PostgreSQL 14+; 13 and older stop after
// application_name, and the fields used here keep their places).
const (
	csvTime = iota
	csvUser
	csvDatabase
	csvPID
	csvConnectionFrom
	csvSessionID
	csvLineNum
	csvCommandTag
	csvSessionStart
	csvVXID
	csvXID
	csvSeverity
	csvState
	csvMessage
	csvDetail
	csvHint
	csvInternalQuery
	csvInternalQueryPos
	csvContext
	csvQuery
	csvQueryPos
	csvLocation
	csvApplication
	csvBackendType
	csvLeaderPID
	csvQueryID
)

// ParseCSV parses one csvlog record (the bytes of one complete record,
// see [CSVRecordEnd]).
func ParseCSV(record []byte) (Entry, error) {
	r := csv.NewReader(bytes.NewReader(record))
	r.FieldsPerRecord = -1
	f, err := r.Read()
	if err != nil {
		return Entry{}, fmt.Errorf("not a csvlog record: %w", err)
	}
	if len(f) <= csvApplication {
		return Entry{}, fmt.Errorf("not a csvlog record: %d fields, want at least %d", len(f), csvApplication+1)
	}
	get := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	pid, err := strconv.Atoi(f[csvPID])
	if err != nil {
		return Entry{}, fmt.Errorf("not a csvlog record: process_id %q", f[csvPID])
	}
	leader, _ := strconv.Atoi(get(csvLeaderPID))
	host, _, _ := strings.Cut(f[csvConnectionFrom], ":")
	return Entry{
		Time: ParseTime(f[csvTime]), PID: pid, User: f[csvUser], Database: f[csvDatabase],
		Application: f[csvApplication], Host: host, BackendType: get(csvBackendType),
		LeaderPID: leader, Severity: f[csvSeverity], Message: f[csvMessage],
		Detail: f[csvDetail], Statement: f[csvQuery],
	}, nil
}

// CSVRecordEnd returns the length of the first complete csvlog record in
// b (up to and including its newline), or -1 if b holds none yet: a
// newline ends a record when the quotes before it are balanced.
func CSVRecordEnd(b []byte) int {
	quotes := 0
	for i, c := range b {
		switch c {
		case '"':
			quotes++
		case '\n':
			if quotes%2 == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// Authorized reads a "connection authorized" (or "replication connection
// authorized") message: the role, and the database and application_name
// when it names them. The entry's own fields win when the log has them
// (jsonlog, csvlog, %u and %d in log_line_prefix).
func (e *Entry) Authorized() (role, database, application string, ok bool) {
	msg, ok := strings.CutPrefix(e.Message, "connection authorized: ")
	if !ok {
		if msg, ok = strings.CutPrefix(e.Message, "replication connection authorized: "); !ok {
			return "", "", "", false
		}
	}
	role = messageField(msg, "user=")
	database = messageField(msg, "database=")
	application = messageField(msg, "application_name=")
	if e.User != "" {
		role = e.User
	}
	if e.Database != "" {
		database = e.Database
	}
	if e.Application != "" {
		application = e.Application
	}
	return role, database, application, role != ""
}

// authorizedFields are what PostgreSQL writes after a field of its
// "connection authorized" message; a value ends where the next begins.
var authorizedFields = []string{" user=", " database=", " application_name=", " SSL ", " GSS ", " identity="}

// messageField returns the value of key in a "connection authorized"
// message, up to the next field PostgreSQL writes.
func messageField(msg, key string) string {
	msg = " " + msg
	i := strings.Index(msg, " "+key)
	if i < 0 {
		return ""
	}
	rest := msg[i+1+len(key):]
	end := len(rest)
	for _, next := range authorizedFields {
		if j := strings.Index(rest, next); j >= 0 && j < end {
			end = j
		}
	}
	return rest[:end]
}

// Received reads a "connection received: host=H port=P" message: the
// client's address ("[local]" for a Unix socket).
func (e *Entry) Received() (host string, ok bool) {
	msg, ok := strings.CutPrefix(e.Message, "connection received: host=")
	if !ok {
		return "", false
	}
	host, _, _ = strings.Cut(msg, " ")
	return host, true
}

// RanStatement reads a statement the backend logged it runs
// (log_statement, log_min_duration_statement): "statement: SQL",
// "execute NAME: SQL", "duration: N ms  statement: SQL".
func (e *Entry) RanStatement() (string, bool) {
	msg := e.Message
	if i := strings.Index(msg, "  statement: "); i >= 0 && strings.HasPrefix(msg, "duration: ") {
		return msg[i+len("  statement: "):], true
	}
	if s, ok := strings.CutPrefix(msg, "statement: "); ok {
		return s, true
	}
	if rest, ok := strings.CutPrefix(msg, "execute "); ok {
		if _, s, ok := strings.Cut(rest, ": "); ok {
			return s, true
		}
	}
	return "", false
}

// Terminated reads the postmaster's report of a child that died of a
// signal: "server process (PID 123) was terminated by signal 31: Bad
// system call", with DETAIL "Failed process was running: SQL". It
// returns the child's pid, the process description ("server process",
// "parallel worker", "background worker \"x\""), the signal and the
// statement ("" when the DETAIL is not there).
func (e *Entry) Terminated() (pid int, what string, signal int, statement string, ok bool) {
	i := strings.Index(e.Message, " (PID ")
	if i < 0 {
		return 0, "", 0, "", false
	}
	what = e.Message[:i]
	rest := e.Message[i+len(" (PID "):]
	num, rest, ok := strings.Cut(rest, ") was terminated by signal ")
	if !ok {
		return 0, "", 0, "", false
	}
	pid, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", 0, "", false
	}
	sig, _, _ := strings.Cut(rest, ":")
	signal, err = strconv.Atoi(sig)
	if err != nil {
		return 0, "", 0, "", false
	}
	statement, _ = strings.CutPrefix(e.Detail, "Failed process was running: ")
	if statement == e.Detail {
		statement = ""
	}
	return pid, what, signal, statement, true
}
