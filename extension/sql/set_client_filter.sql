--
-- set_client_filter(): arguments, once per session, never at plan time.
--

-- planning and EXPLAIN must not load a filter
EXPLAIN (COSTS OFF) SELECT set_client_filter('error', NULL, NULL, 'sethostname', NULL);
SELECT count(*) AS client_rows
FROM seccomp_filter()
WHERE filter_action LIKE 'client->%';

-- invalid arguments name the argument and the offending word; none of them
-- uses up the session's one call
SELECT set_client_filter('deny', NULL, NULL, NULL, NULL);
SELECT set_client_filter(NULL, 'read,reed', NULL, NULL, NULL);
SELECT set_client_filter(NULL, 'read,,write', NULL, NULL, NULL);
SELECT set_client_filter(NULL, NULL, 'swapoff,*', NULL, NULL);
SELECT set_client_filter(NULL, NULL, NULL, NULL, 'mount umount2');
SELECT set_client_filter(NULL, 'mount', NULL, 'mount', NULL);

-- an explicit list beats an inherited one: chroot is in this session's error
-- list, sethostname in no list; the client layer logs chroot and denies
-- sethostname, keeps the session's other lists (NULL), takes the global kill
-- list ('*'), and defaults to the session's default (NULL)
SELECT set_client_filter(NULL, NULL, 'chroot', 'sethostname', '*');
SELECT syscall, filter_action
FROM seccomp_filter()
WHERE context = 'session'
ORDER BY syscall;

-- once per session
SELECT set_client_filter(NULL, NULL, NULL, NULL, NULL);
