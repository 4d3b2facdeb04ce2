// The journal's vocabulary: one JSON object per line, after a versioned header. The journal is the
// run's source of truth; the report and `status` are rebuilt from it.

import type { StageResult, ToolCallResult, Usage } from "../authoring/types.js";

/** The dialogs a human gate can be. */
export type PromptKind = "input" | "confirm" | "select" | "editor";

export const JOURNAL_VERSION = 1;

export type RunStatus =
	| "running"
	| "paused"
	| "interrupted"
	| "awaiting_input"
	| "completed"
	| "failed"
	| "blocked"
	| "cancelled"
	| "skipped";

export type StageStatus = "running" | "waiting" | "completed" | "failed" | "cancelled" | "interrupted";

/** What a graph node is: a model stage (`ctx.task`), a recorded side effect (`ctx.tool`) or a question
 * to a person (`ctx.ui.*`, or a dialog raised inside a stage). */
export type NodeKind = "task" | "tool" | "prompt";

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
	/** The data spec of a dynamic workflow, so a resume can rebuild it. */
	spec?: unknown;
	/** Model for stages that name none; a resume keeps it, so fingerprints stay comparable. */
	defaultModel?: string;
	concurrency?: number;
}

/** A later process took the run over and re-executes `run` from the top, replaying what is recorded. */
export interface RunResumedEvent {
	type: "run_resumed";
	at: string;
	/** The user's message for the resumed stages, if any. */
	message?: string;
}

/** The run stopped on request: no stage runs; it continues with a resume. */
export interface RunPausedEvent {
	type: "run_paused";
	at: string;
	reason: string;
}

export interface StageStartedEvent {
	type: "stage_started";
	at: string;
	stageId: string;
	/** Replay identity: scope path + name + occurrence (see engine/call-identity.ts). */
	key?: string;
	name: string;
	parents: string[];
	/** Hash of everything that decides the stage's result (prompt, model, tools, reads, output, context). */
	fingerprint: string;
	model: string;
	sessionFile: string;
	/** Why a recorded stage runs again on resume (fingerprint changed, output file missing, ...). */
	rerun?: string;
	/** Continues its own transcript from an earlier attempt instead of starting over. */
	continued?: boolean;
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

/** A running stage was stopped by a pause; its transcript is continued on resume. */
export interface StageInterruptedEvent {
	type: "stage_interrupted";
	at: string;
	stageId: string;
	reason: string;
	usage: Usage;
	durationMs: number;
}

/** A resumed run reached a recorded call and returned its recorded result without running it. */
export interface StageReplayedEvent {
	type: "stage_replayed";
	at: string;
	stageId: string;
}

/** A message was delivered to a running stage before its next model call. */
export interface StageSteeredEvent {
	type: "stage_steered";
	at: string;
	stageId: string;
	message: string;
}

/** The outcome of a `ctx.tool` call: its JSON value, or the failure with what a command printed. */
export type ToolOutcome = ToolCallResult<unknown>;

export interface ToolStartedEvent {
	type: "tool_started";
	at: string;
	stageId: string;
	key: string;
	name: string;
	parents: string[];
	/** Hash of the tool's name, arguments and failure mode. */
	fingerprint: string;
	args: unknown;
	rerun?: string;
}

export interface ToolFinishedEvent {
	type: "tool_finished";
	at: string;
	stageId: string;
	outcome: ToolOutcome;
	/** How often `fn` was called (1 + retries used). */
	calls: number;
	durationMs: number;
	/** The run was stopped while the tool ran; it runs again on resume. */
	stopped?: boolean;
	/** Recorded with failureMode "return": a failure is a result the workflow branches on. */
	failureReturned?: boolean;
}

/** A question to a person started waiting (a human gate). */
export interface PromptPendingEvent {
	type: "prompt_pending";
	at: string;
	/** The prompt's id (`confirm`, `confirm-2`, ...), unique among the run's nodes. */
	stageId: string;
	key: string;
	parents: string[];
	fingerprint: string;
	kind: PromptKind;
	message: string;
	options?: string[];
	placeholder?: string;
	initial?: string;
	/** The stage whose session asked, for a dialog raised inside a stage. */
	stage?: string;
}

export interface PromptAnsweredEvent {
	type: "prompt_answered";
	at: string;
	stageId: string;
	answer: string | boolean;
}

export interface RunFinishedEvent {
	type: "run_finished";
	at: string;
	status: Exclude<RunStatus, "running" | "paused" | "interrupted" | "awaiting_input">;
	outputs?: Record<string, unknown>;
	error?: string;
	reason?: string;
}

export type JournalEvent =
	| RunStartedEvent
	| RunResumedEvent
	| RunPausedEvent
	| StageStartedEvent
	| StageCompletedEvent
	| StageFailedEvent
	| StageInterruptedEvent
	| StageReplayedEvent
	| StageSteeredEvent
	| ToolStartedEvent
	| ToolFinishedEvent
	| PromptPendingEvent
	| PromptAnsweredEvent
	| RunFinishedEvent;
export type JournalLine = JournalHeader | JournalEvent;
