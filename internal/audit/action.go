package audit

import (
	"fmt"
	"strconv"
	"strings"
)

// Action is the seccomp action a record reports in its code= field: one of
// the kernel's SECCOMP_RET_* values (the action part, code & 0xffff0000;
// the kernel never logs the data part).
type Action uint32

// The SECCOMP_RET_* actions (include/uapi/linux/seccomp.h).
const (
	ActionKillProcess Action = 0x80000000
	ActionKillThread  Action = 0x00000000
	ActionTrap        Action = 0x00030000
	ActionErrno       Action = 0x00050000
	ActionUserNotif   Action = 0x7fc00000
	ActionTrace       Action = 0x7ff00000
	ActionLog         Action = 0x7ffc0000
	ActionAllow       Action = 0x7fff0000
)

const actionMask = 0xffff0000

// Actions lists every action in decreasing precedence, the kernel's order.
var Actions = []Action{
	ActionKillProcess, ActionKillThread, ActionTrap, ActionErrno,
	ActionUserNotif, ActionTrace, ActionLog, ActionAllow,
}

// String returns the action's name in pgseccomp's words: "error" for
// SECCOMP_RET_ERRNO (the extension's error action), "kill_process" for
// the extension's kill; the other names are libseccomp's. An unknown value
// prints as its hexadecimal code.
func (a Action) String() string {
	switch a {
	case ActionKillProcess:
		return "kill_process"
	case ActionKillThread:
		return "kill_thread"
	case ActionTrap:
		return "trap"
	case ActionErrno:
		return "error"
	case ActionUserNotif:
		return "user_notif"
	case ActionTrace:
		return "trace"
	case ActionLog:
		return "log"
	case ActionAllow:
		return "allow"
	}
	return fmt.Sprintf("0x%x", uint32(a))
}

// known reports whether a is one of the SECCOMP_RET_* actions.
func (a Action) known() bool {
	for _, k := range Actions {
		if a == k {
			return true
		}
	}
	return false
}

// carriesData reports whether a filter's return value for a can have a
// data part (an errno, a trace message, a signal code) below the action.
func (a Action) carriesData() bool {
	return a == ActionErrno || a == ActionTrace || a == ActionTrap
}

// actionNames maps the words ParseActions accepts to the actions they select.
var actionNames = map[string][]Action{
	"allow":        {ActionAllow},
	"log":          {ActionLog},
	"error":        {ActionErrno},
	"errno":        {ActionErrno},
	"trap":         {ActionTrap},
	"trace":        {ActionTrace},
	"user_notif":   {ActionUserNotif},
	"notify":       {ActionUserNotif},
	"kill":         {ActionKillProcess, ActionKillThread},
	"kill_process": {ActionKillProcess},
	"kill_thread":  {ActionKillThread},
}

// ParseActions parses a comma-separated list of action names: allow, log,
// error (or errno), trap, trace, user_notif (or notify), kill_process,
// kill_thread, kill (both kills), or a raw code such as 0x7ffc0000. Case
// and spaces around words do not matter. The error names the bad word.
func ParseActions(s string) ([]Action, error) {
	var out []Action
	for word := range strings.SplitSeq(s, ",") {
		w := strings.ToLower(strings.TrimSpace(word))
		if acts, ok := actionNames[w]; ok {
			out = append(out, acts...)
			continue
		}
		if hex, ok := strings.CutPrefix(w, "0x"); ok {
			if v, err := strconv.ParseUint(hex, 16, 32); err == nil && validCode(uint32(v)) {
				out = append(out, Action(v&actionMask))
				continue
			}
		}
		return nil, fmt.Errorf("unknown action %q; use allow, log, error, trap, trace, user_notif, kill, kill_process, kill_thread or a code such as 0x7ffc0000", strings.TrimSpace(word))
	}
	return out, nil
}
