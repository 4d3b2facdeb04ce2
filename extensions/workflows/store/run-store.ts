// The run store: where a run's journal, ownership and control mailbox live, and how runs are listed. The
// engine works against this interface only; `FileRunStore` (files in the project, no daemon) is the default,
// `MemoryRunStore` serves tests, and a shared database can implement it later. A run's transcripts,
// artifacts and report are files on this machine either way (`paths`).

import type { JournalEvent, JournalHeader } from "./events.js";
import type { JournalContents } from "./journal-text.js";
import type { RunPaths } from "./run-directory.js";
import type { LeaseEvents, LockState, RunLease } from "./run-lock.js";
import type { ControlReply, ControlRequest } from "./run-mailbox.js";

export type { LeaseEvents, LockOwner, LockState, RunLease } from "./run-lock.js";
export type { ControlReply, ControlRequest } from "./run-mailbox.js";

/** Appends to one run's journal (its owner only). */
export interface JournalWriter {
	readonly header: JournalHeader;
	/** Appends one event; a durable one reaches stable storage soon (see the store's policy). */
	append(event: JournalEvent, options?: { durable?: boolean }): void;
	/** Everything appended so far reaches stable storage now. */
	sync(): void;
	close(): void;
	/** Told when a sync no caller waits for fails. */
	onSyncError: (error: unknown) => void;
}

/** A run this process owns now: its files, its journal as it was read, and a writer for what comes next. */
export interface OpenedRun {
	paths: RunPaths;
	contents: JournalContents;
	journal: JournalWriter;
	lease: RunLease;
}

export interface RunStore {
	/** The files of a run on this machine (transcripts, artifacts, report). */
	paths(runId: string): RunPaths;
	/** Ids of the runs that have a journal. */
	listRunIds(): string[];
	/** Whether the run has a journal. */
	has(runId: string): boolean;
	/** Whether a folder of that run exists, with or without a journal (to tell "no such run" from a broken one). */
	exists(runId: string): boolean;
	/** A run's journal as it is now; throws, naming the run, when it has none or it cannot be read. */
	read(runId: string): JournalContents;
	/** Creates a new run, owned by this process: its folders, its lock and its journal's header. */
	create(runId: string, header: { workflow: string; createdAt: string }, events: LeaseEvents): OpenedRun;
	/** Takes over an existing run: its lock (refused while another live process holds it), then its journal. */
	open(runId: string, events: LeaseEvents): { ok: true; run: OpenedRun } | { ok: false; error: string };
	/** Who owns a run now. */
	owner(runId: string): LockState;
	/** Ids of the runs that may be resumable (a run created or taken over, and not yet ended for good), so session
	 * start folds those only; undefined when the store keeps no such list yet (then every run is looked at). */
	openRunIds(): string[] | undefined;
	/** Lists a run as open (true: the engine drives it) or drops it (false: it ended for good: completed, failed,
	 * blocked, cancelled, skipped), so session start looks only at runs that may be resumed. */
	markOpen(runId: string, open: boolean): void;
	/** Deletes a run: its journal and every file of it. The caller holds its lock (see engine/runs.ts pruneRuns). */
	remove(runId: string): void;
	/** Asks the process that owns a run to apply a control request, and waits for its reply. */
	send(
		runId: string,
		request: ControlRequest,
		options?: { timeoutMs?: number; signal?: AbortSignal },
	): Promise<ControlReply>;
	/** Answers the control requests sent to a run this process owns; returns a function that stops serving. */
	serve(
		runId: string,
		handle: (request: ControlRequest) => ControlReply | Promise<ControlReply>,
		onWarning: (message: string) => void,
	): () => void;
}
