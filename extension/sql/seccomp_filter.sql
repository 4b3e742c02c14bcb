--
-- seccomp_filter(): what this session has loaded.
--
-- The server runs with the settings in tests/extension/regress_test.go:
--   global:  log acct, error kexec_load, kill reboot, default allow
--   session: error swapon,chroot, log swapoff, default allow
--   role regress_pgseccomp_joe: error swapon
-- Syscall numbers differ between architectures, so rows show names only.
--
SELECT syscall, filter_action, context
FROM seccomp_filter()
ORDER BY context, syscall;

-- every row but <default> carries the native number of its syscall
SELECT syscall, syscallnum
FROM seccomp_filter()
WHERE (syscall = '<default>') <> (syscallnum = -1) OR syscallnum = 0;

-- both contexts describe one default each
SELECT context, count(*) FILTER (WHERE syscall = '<default>') AS defaults
FROM seccomp_filter()
GROUP BY context
ORDER BY context;

-- the filter is decided at authentication: SET ROLE to a role with its own
-- settings changes nothing
CREATE ROLE regress_pgseccomp_joe;
GRANT EXECUTE ON FUNCTION seccomp_filter() TO regress_pgseccomp_joe;
SET ROLE regress_pgseccomp_joe;
SELECT syscall, filter_action
FROM seccomp_filter()
WHERE context = 'session'
ORDER BY syscall;
RESET ROLE;
SET SESSION AUTHORIZATION regress_pgseccomp_joe;
SELECT syscall, filter_action
FROM seccomp_filter()
WHERE context = 'session' AND syscall = 'chroot';
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION seccomp_filter() FROM regress_pgseccomp_joe;
DROP ROLE regress_pgseccomp_joe;

-- setting a per-role or session setting in a session changes nothing loaded
SET session_syscall_error.regress_pgseccomp_joe = '';
SET pgseccomp.session_syscall_error = '';
SELECT syscall, filter_action
FROM seccomp_filter()
WHERE context = 'session' AND syscall IN ('swapon', 'chroot')
ORDER BY syscall;
