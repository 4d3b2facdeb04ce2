// The journal's vocabulary: one JSON object per line, after a versioned header. The journal is the
// run's source of truth; the report and `status` are rebuilt from it.

import type { StageResult, Usage } from "../authoring/types.js";

export const JOURNAL_VERSION = 1;

export type RunStatus =
	| "running"
	| "paused"
	| "awaiting_input"
	| "completed"
	| "failed"
	| "blocked"
	| "cancelled"
	| "skipped";

export type StageStatus = "running" | "completed" | "failed" | "cancelled";

export interface JournalHeader {
	type: "header";
	version: number;
	runId: string;
	workflow: string;
	createdAt: string;
}

export interface RunStartedEvent {
	type: "run_started";
	at: string;
	inputs: Record<string, unknown>;
	cwd: string;
	/** File the workflow was loaded from, when it came from one. */
	workflowFile?: string;
}

export interface StageStartedEvent {
	type: "stage_started";
	at: string;
	stageId: string;
	name: string;
	parents: string[];
	/** Hash of everything that decides the stage's result (prompt, model, tools, reads, output, context). */
	fingerprint: string;
	model: string;
	sessionFile: string;
}

export interface StageCompletedEvent {
	type: "stage_completed";
	at: string;
	stageId: string;
	result: StageResult;
}

export interface StageFailedEvent {
	type: "stage_failed";
	at: string;
	stageId: string;
	error: string;
	/** True when the stage was stopped (cancel, fail-fast sibling) rather than failing on its own. */
	cancelled?: boolean;
	usage: Usage;
	durationMs: number;
}

export interface RunFinishedEvent {
	type: "run_finished";
	at: string;
	status: Exclude<RunStatus, "running">;
	outputs?: Record<string, unknown>;
	error?: string;
	reason?: string;
}

export type JournalEvent =
	| StageStartedEvent
	| StageCompletedEvent
	| StageFailedEvent
	| RunStartedEvent
	| RunFinishedEvent;
export type JournalLine = JournalHeader | JournalEvent;
