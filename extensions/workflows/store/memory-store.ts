// A run store held in memory, for tests: journals, ownership and the control mailbox live in this process;
// a run's transcripts and artifacts are still files under `cwd` (stages are real Pi sessions). `takeOver`
// plays another process taking a run over, so tests can see an owner lose its run.

import { hostname } from "node:os";
import type { JournalEvent, JournalHeader } from "./events.js";
import type { JournalContents } from "./journal-text.js";
import { headerLine, parseJournal } from "./journal-text.js";
import { createRunDirectory, type RunPaths, runPaths } from "./run-directory.js";
import type { LeaseEvents, LockState, RunLease } from "./run-lock.js";
import type { ControlReply, ControlRequest } from "./run-mailbox.js";
import type { JournalWriter, OpenedRun, RunStore } from "./run-store.js";

interface MemoryRun {
	lines: string[];
	owner?: { token: number; events: LeaseEvents; acquiredAt: string };
	handler?: (request: ControlRequest) => ControlReply | Promise<ControlReply>;
}

export class MemoryRunStore implements RunStore {
	private readonly runs = new Map<string, MemoryRun>();
	private tokens = 0;

	constructor(readonly cwd: string) {}

	paths(runId: string): RunPaths {
		return runPaths(this.cwd, runId);
	}

	listRunIds(): string[] {
		return [...this.runs.keys()].sort();
	}

	has(runId: string): boolean {
		return this.runs.has(runId);
	}

	exists(runId: string): boolean {
		return this.runs.has(runId);
	}

	openRunIds(): string[] {
		return this.listRunIds();
	}

	markOpen(): void {}

	remove(runId: string): void {
		this.runs.delete(runId);
	}

	read(runId: string): JournalContents {
		const run = this.runs.get(runId);
		if (!run) throw new Error(`Run ${runId} has no journal in this store`);
		return parseJournal(run.lines.join("\n"), `run ${runId} (memory)`);
	}

	create(runId: string, header: { workflow: string; createdAt: string }, events: LeaseEvents): OpenedRun {
		if (this.runs.has(runId)) throw new Error(`Run ${runId} exists already`);
		const paths = createRunDirectory(this.cwd, runId);
		const line = headerLine({ runId, ...header });
		const run: MemoryRun = { lines: [JSON.stringify(line)] };
		this.runs.set(runId, run);
		const lease = this.lease(runId, run, events);
		return { paths, contents: { header: line, events: [], warnings: [] }, journal: this.writer(run, line), lease };
	}

	open(runId: string, events: LeaseEvents): { ok: true; run: OpenedRun } | { ok: false; error: string } {
		const run = this.runs.get(runId);
		if (!run) return { ok: false, error: "it has no journal in this store" };
		if (run.owner) return { ok: false, error: `the run is owned by ${describe(run.owner.acquiredAt)}` };
		const lease = this.lease(runId, run, events);
		const contents = this.read(runId);
		return {
			ok: true,
			run: { paths: this.paths(runId), contents, journal: this.writer(run, contents.header), lease },
		};
	}

	owner(runId: string): LockState {
		const owner = this.runs.get(runId)?.owner;
		if (!owner) return { state: "free" };
		return {
			state: "owned",
			owner: {
				pid: process.pid,
				host: hostname(),
				acquiredAt: owner.acquiredAt,
				heartbeatAt: new Date().toISOString(),
			},
		};
	}

	async send(runId: string, request: ControlRequest): Promise<ControlReply> {
		const handler = this.runs.get(runId)?.handler;
		if (!handler)
			return { ok: false, message: "the process that owns the run did not take the request; nothing was changed" };
		try {
			return await handler(request);
		} catch (error) {
			return { ok: false, message: error instanceof Error ? error.message : String(error) };
		}
	}

	serve(runId: string, handle: (request: ControlRequest) => ControlReply | Promise<ControlReply>): () => void {
		const run = this.runs.get(runId);
		if (run) run.handler = handle;
		return () => {
			if (run?.handler === handle) run.handler = undefined;
		};
	}

	/** Plays another process taking the run over: the current owner's lease is lost. */
	takeOver(runId: string): void {
		const run = this.runs.get(runId);
		const previous = run?.owner;
		if (!run || !previous) throw new Error(`Run ${runId} has no owner to take over from`);
		run.owner = {
			token: ++this.tokens,
			events: { onLost: () => undefined, onWarning: () => undefined },
			acquiredAt: new Date().toISOString(),
		};
		previous.events.onLost("lost ownership of the run: another owner took it over");
	}

	private lease(runId: string, run: MemoryRun, events: LeaseEvents): RunLease {
		const token = ++this.tokens;
		run.owner = { token, events, acquiredAt: new Date().toISOString() };
		const ours = () => run.owner?.token === token;
		return {
			path: `memory:${runId}`,
			check: () =>
				ours() ? { ok: true } : { ok: false, error: "lost ownership of the run: another owner took it over" },
			release: () => {
				if (ours()) run.owner = undefined;
			},
		};
	}

	private writer(run: MemoryRun, header: JournalHeader): JournalWriter {
		return {
			header,
			append: (event: JournalEvent) => {
				run.lines.push(JSON.stringify(event));
			},
			sync: () => undefined,
			close: () => undefined,
			onSyncError: () => undefined,
		};
	}
}

function describe(acquiredAt: string): string {
	return `process ${process.pid} on ${hostname()} (since ${acquiredAt})`;
}
