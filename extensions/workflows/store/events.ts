// The journal's vocabulary: one JSON object per line, after a versioned header. The journal is the run's
// source of truth; replay, the report, pending questions and the live view are folds of it (run-fold.ts).
// Every recorded call of a workflow (a task, a tool call, a question, and the kinds added later) is a node:
// `node_started` when it begins, `node_finished` when it ends, `node_replayed` when a resume returned its
// recorded result. Version 1 journals used one event type per kind; legacy-events.ts migrates them on read.

import type { ToolCallResult, Usage, WorkflowBudget } from "../authoring/types.js";

export const JOURNAL_VERSION = 2;

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

export type NodeStatus = "running" | "waiting" | "completed" | "failed" | "cancelled" | "interrupted";

/** What a node is: a model stage (`ctx.task`, or one prompt of a multi-turn stage), a recorded side effect
 * (`ctx.tool`), a question to a person (`ctx.ui.*`, or a dialog raised inside a stage), a child workflow
 * (`ctx.workflow`), a multi-turn stage session (`ctx.stage`), a patch applied to the user's tree (`ctx.apply`), or
 * the run's own git worktree (a workflow's `worktree`). */
export type NodeKind = "task" | "tool" | "prompt" | "workflow" | "stage" | "apply" | "worktree";

/** The dialogs a human gate can be. */
export type PromptKind = "input" | "confirm" | "select" | "editor";

/** A question a workflow (or an extension inside a stage) asks a person. */
export interface PromptQuestion {
	kind: PromptKind;
	message: string;
	/** select: the choices. */
	options?: string[];
	/** input: a hint shown in the empty field. */
	placeholder?: string;
	/** editor: the text to start from. */
	initial?: string;
}

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
	/** The limits in force for this part of the run (the workflow's budget, the override, the default). */
	budget?: WorkflowBudget;
	/** Limits given for this run only (a command's --budget, the tool's budget), kept for later resumes. */
	budgetOverride?: WorkflowBudget;
}

/** A later process took the run over and re-executes `run` from the top, replaying what is recorded. */
export interface RunResumedEvent {
	type: "run_resumed";
	at: string;
	/** The user's message for the resumed stages, if any. */
	message?: string;
	/** As on run_started: the limits in force from now on, and the override they include. */
	budget?: WorkflowBudget;
	budgetOverride?: WorkflowBudget;
}

/** The run stopped on request: no stage runs; it continues with a resume. */
export interface RunPausedEvent {
	type: "run_paused";
	at: string;
	reason: string;
}

/** A pause, a cancel or a stop (a budget, a breaker) was accepted: journaled at once, before the running stages
 * have stopped, so a process killed meanwhile still leaves the decision on disk. */
export interface RunStoppingEvent {
	type: "run_stopping";
	at: string;
	mode: "pause" | "cancel" | "stop";
	reason: string;
	/** For a stop: the status the run ends with. */
	status?: RunStatus;
}

export interface RunFinishedEvent {
	type: "run_finished";
	at: string;
	status: Exclude<RunStatus, "running" | "paused" | "interrupted" | "awaiting_input">;
	outputs?: Record<string, unknown>;
	error?: string;
	reason?: string;
}

interface NodeStartedBase {
	type: "node_started";
	at: string;
	/** The node's id, unique in the run (`review`, `review-2`, `confirm`, ...). */
	stageId: string;
	/** Replay identity: scope path + kind + name + occurrence (see engine/call-identity.ts). */
	key: string;
	name: string;
	parents: string[];
	/** Hash of the node's own definition (prompt, model, tools, reads with their contents, arguments, ...). */
	fingerprint: string;
	/** Digests of the earlier nodes' results it consumed (previous results, fork source), by node id: a
	 * resume replays the node only when these are unchanged too. */
	consumed?: Record<string, string>;
	/** Why a recorded node runs again on resume (fingerprint changed, output file missing, ...). */
	rerun?: string;
	/** The node it belongs to: a child workflow's node, or the multi-turn stage a prompt is part of. */
	within?: string;
	/** The named parallel group it runs in (`ctx.parallel(..., { group })`). */
	group?: string;
}

/** A git worktree a stage (or the whole run) works in, as created: enough to find it again on resume. */
export interface WorktreeRecord {
	root: string;
	repoRoot: string;
	cwd: string;
	branch: string;
	baseCommit: string;
	link: string[];
}

export interface TaskStartedEvent extends NodeStartedBase {
	kind: "task";
	model: string;
	/** The transcript of this attempt. */
	sessionFile: string;
	/** Continues its own transcript from an earlier attempt instead of starting over. */
	continued?: boolean;
	/** Digest of the output file when the stage's work on it began, to tell later whether the stage wrote it. */
	outputStamp?: string;
	/** Which of the stage's models this attempt uses: 0 its model, 1 its first fallback, ... */
	attempt?: number;
	/** The prompt the stage was given, bounded (the whole is in the transcript): for the receipts. */
	prompt?: string;
	/** The stage's own worktree (`worktree: true`): where it goes, then (journaled again once made) all of it. */
	worktree?: WorktreeRecord | { root: string; branch: string };
}

export interface ToolStartedEvent extends NodeStartedBase {
	kind: "tool";
	args: unknown;
	/** Handed to `fn`; the same across retries and resumes of this call. */
	idempotencyKey?: string;
}

export interface PromptStartedEvent extends NodeStartedBase {
	kind: "prompt";
	question: PromptQuestion;
	/** The stage whose session asked, for a dialog raised inside a stage. */
	stage?: string;
}

export interface WorkflowStartedEvent extends NodeStartedBase {
	kind: "workflow";
	/** The child workflow's name. */
	workflow: string;
	inputs: unknown;
}

export interface StageSessionStartedEvent extends NodeStartedBase {
	kind: "stage";
	model: string;
	/** The transcript every prompt of the session continues. */
	sessionFile: string;
	/** The session's worktree (`worktree`), journaled again with the start once made; its prompts work there. */
	worktree?: WorktreeRecord;
}

export interface ApplyStartedEvent extends NodeStartedBase {
	kind: "apply";
	/** The patch file, and the change it holds. */
	patch: string;
	files: number;
	insertions: number;
	deletions: number;
}

export interface WorktreeStartedEvent extends NodeStartedBase {
	kind: "worktree";
	root: string;
	branch: string;
	base: string;
}

export type NodeStartedEvent =
	| TaskStartedEvent
	| ToolStartedEvent
	| PromptStartedEvent
	| WorkflowStartedEvent
	| StageSessionStartedEvent
	| ApplyStartedEvent
	| WorktreeStartedEvent;

/** The outcome of a `ctx.tool` call: its JSON value, or the failure with what a command printed. */
export type ToolOutcome = ToolCallResult<unknown>;

/** A node ended. `result` is what the call handed the workflow (JSON), when a resume may hand it again. */
export interface NodeFinishedEvent {
	type: "node_finished";
	at: string;
	stageId: string;
	status: Exclude<NodeStatus, "running" | "waiting">;
	/** task: the StageResult; tool: the outcome `{ ok, value | error }`; prompt: the answer. */
	result?: unknown;
	error?: string;
	/** A failure the workflow took as data (ctx.tool with failureMode "return"): not an error of the run. */
	handled?: boolean;
	/** task: cumulative for its transcript (a continued stage reports its whole transcript); a completed
	 * stage's is in its result instead, with its duration, unless it tried more than one model: the result has
	 * the sum of all its attempts, this the last attempt's alone. */
	usage?: Usage;
	/** task: what kind of failure ended it (auth, quota, transient, timeout, structured, ...). */
	kind?: string;
	durationMs?: number;
	/** tool: how often `fn` was called (1 + retries used). */
	calls?: number;
}

/** A stage's model attempt ended without the stage ending: it failed in a way its next model may fix, or it was
 * skipped (no credentials, its provider refused earlier). The stage goes on with its next model. */
export interface NodeAttemptEvent {
	type: "node_attempt";
	at: string;
	stageId: string;
	model: string;
	error: string;
	kind?: string;
	skipped?: boolean;
	/** The attempt's transcript and what it spent (absent for a skipped model). */
	sessionFile?: string;
	usage?: Usage;
}

/** A resumed run reached a recorded node and returned its recorded result without running it. */
export interface NodeReplayedEvent {
	type: "node_replayed";
	at: string;
	stageId: string;
}

/** A message was delivered to a running stage before its next model call. */
export interface NodeSteeredEvent {
	type: "node_steered";
	at: string;
	stageId: string;
	message: string;
}

/** A message for a stage that had not started yet: kept until the stage starts (then delivered in its first
 * prompt), or reported undeliverable when it never can be. */
export interface NodeQueuedEvent {
	type: "node_queued";
	at: string;
	/** The stage's id, as the workflow will give it (its name, or `name-2`, ...). */
	stageId: string;
	message: string;
}

/** Queued messages that can never reach their stage (it was skipped, or the run ended before it started). */
export interface NodeUndeliverableEvent {
	type: "node_undeliverable";
	at: string;
	stageId: string;
	messages: string[];
	reason: string;
}

/** Something went wrong that did not stop the run (a report that could not be written, a heartbeat, ...). */
export interface WarningEvent {
	type: "warning";
	at: string;
	message: string;
}

export type JournalEvent =
	| RunStartedEvent
	| RunResumedEvent
	| RunPausedEvent
	| RunStoppingEvent
	| RunFinishedEvent
	| NodeStartedEvent
	| NodeFinishedEvent
	| NodeAttemptEvent
	| NodeReplayedEvent
	| NodeSteeredEvent
	| NodeQueuedEvent
	| NodeUndeliverableEvent
	| WarningEvent;
export type JournalLine = JournalHeader | JournalEvent;
