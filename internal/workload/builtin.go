package workload

// BuiltIn returns the built-in workload's steps in the order they run:
// SQL features first, then maintenance, replication and client programs,
// then the destructive steps (configuration changes, restarts, crashes,
// a PANIC), and the teardown.
func BuiltIn() []Step {
	return []Step{
		setupStep(),

		// SQL and the libraries and files behind it.
		ddlStep(),
		typesStep(),
		textSearchStep(),
		localeStep(),
		copyStep(),
		adminFunctionsStep(),
		configStep(),

		// Sessions that wait for, signal and stop each other.
		timeoutsStep(),
		deadlockStep(),
		rowLocksStep(),
		serializableStep(),
		advisoryLocksStep(),
		preparedXactsStep(),
		notifyStep(),

		// The executor's resources: temporary files, memory, JIT, workers, I/O.
		spillStep(),
		memoryStep(),
		tempTablesStep(),
		jitStep(),
		parallelStep(),
		clientFilterStep(),
		prefetchStep(),

		// Maintenance and storage.
		vacuumStep(),
		indexStep(),
		tablespacesStep(),
		databasesStep(),
		largeObjectsStep(),

		// Procedural languages and contrib.
		plpgsqlStep(),
		plperlStep(),
		cryptoStep(),
		fdwStep(),
		contribTypesStep(),
		inspectionStep(),

		// WAL, backups, replication.
		walStep(),
		standbyStep(),
		baseBackupStep("base-backup-tar-server-gzip-throttled", "-Ft", "-X", "fetch", "--compress=server-gzip:1", "--max-rate=256M"),
		baseBackupStep("base-backup-server-target-zstd-threads", "--target=server:{dir}/server", "-X", "fetch", "--compress=server-zstd:level=1,workers=2"),
		// Not --target=shell: basebackup_to_shell runs a program from the
		// walsender, a session process, which would need execve.
		baseBackupStep("base-backup-plain-lz4", "-X", "stream", "--compress=server-lz4:1", "-Ft"),
		walSummarizerStep(),
		receiveWALStep(),
		logicalDecodingStep(),
		recvLogicalStep(),
		logicalReplicationStep(),
		replicationProtocolStep(),

		// Sessions and client programs.
		connectionsStep(),
		hbaLoginsStep(),
		dumpRestoreStep(),
		pgbenchStep(),
		maintenanceToolsStep(),
		autovacuumStep(),

		// Destructive: configuration files, restarts, crashes, a PANIC.
		authStep(),
		sslStep(),
		walSyncStep(),
		archiveLibraryStep(),
		loggingCollectorStep(),
		restartStep(),
		standbyPromoteStep(),
		crashRecoveryStep(),
		backendCrashStep(),
		backendAbortStep(),
		startupPanicStep(),

		teardownStep(),
	}
}

// ServerLife returns the steps of the built-in workload that any server
// meets, whatever its application does: a login by every method of its
// pg_hba.conf that can be exercised, WAL segments created and
// recycled, checkpoints and archiving, a base backup through a
// walsender, a restart, crash recovery after an immediate stop, a
// backend's abort() and a PANIC in the startup process. pgseccomp record
// runs them in every recording of an existing cluster's copy, before the
// user's workloads, so that a profile of a real cluster never lacks them.
// The destructive ones run only on a server made for the recording.
func ServerLife() []Step {
	return []Step{
		setupStep(),
		hbaLoginsStep(),
		walStep(),
		baseBackupStep("base-backup-plain-stream", "-X", "stream"),
		restartStep(),
		crashRecoveryStep(),
		backendAbortStep(),
		startupPanicStep(),
		teardownStep(),
	}
}
