// What the ctx calls of one run share: the run's services (settings, journal, fold, limiter, ids) and, per
// scope, the graph frontier, the abort signal, the call identities, the child workflow it runs in and where its
// stages work. Parallel branches, child workflows and multi-turn stages get scopes of their own.

import type { TProperties } from "typebox";
import type { RunStop } from "../authoring/run-stop.js";
import type { StageResult, WorkflowBudget } from "../authoring/types.js";
import type { ModelResolution } from "../stages/model-spec.js";
import type { StageActivity } from "../stages/stage-session.js";
import type { JournalEvent, WorktreeRecord } from "../store/events.js";
import type { RunPaths } from "../store/run-directory.js";
import type { RunFold } from "../store/run-fold.js";
import type { RunBreakers } from "./breakers.js";
import type { RunBudget } from "./budget.js";
import type { CallScope } from "./call-identity.js";
import type { PromptBoard } from "./calls/prompt-board.js";
import type { Frontier, StageIds } from "./graph.js";
import type { Limiter } from "./limiter.js";
import type { ProgressWatch } from "./progress-watch.js";
import type { RunSettings } from "./run-settings.js";

export interface RunServices {
	workflow: string;
	/** The file the run's workflow was loaded from, when it was (named in errors about its code). */
	workflowFile?: string;
	runId: string;
	paths: RunPaths;
	settings: RunSettings;
	/** Resolves a model spec with the current registry, for preparing a stage (successes are cached per
	 * registry; a stage that runs resolves its model again). */
	resolveModel(spec: string): ModelResolution;
	/** The run's limits, what it spent, and the checks. */
	budget: RunBudget;
	/** Providers that refused the run, and the same failure ending stages: the circuit breakers. */
	breakers: RunBreakers;
	/** ctx.progress's counts of the same state in a row, per scope. */
	progress: ProgressWatch;
	/** The workflow's declared outputs (ctx.exit checks what it reports against them). */
	outputs: TProperties;
	/** Stops the whole run now (a budget reached while stages ran, a breaker): running stages are stopped. */
	stopRun(stop: RunStop): void;
	/** Run-wide limit on stage sessions in flight. */
	limiter: Limiter;
	ids: StageIds;
	/** The run's state, folded from every event journaled so far (earlier processes' included): replay reads it. */
	fold: RunFold;
	/** The user's message for stages that were in flight when the run stopped (resume only). */
	resumeMessage?: string;
	/** Why the run is being stopped, once it is: a pause or a stop (a budget, a breaker) interrupts stages, so a
	 * resume continues them; a cancel ends them. */
	stopping(): "pause" | "cancel" | "stop" | undefined;
	/** Questions to a person the run waits on. */
	prompts: PromptBoard;
	/** Steering handles of the stages running now, by stage id. */
	steerable: Map<string, (message: string) => Promise<void>>;
	/** Messages for stages that started but whose session is not open yet, handed over as it opens. */
	lateSteers: Map<string, string[]>;
	/** Multi-turn stages open now: each closes its session (the run closes those left open when it ends). */
	openStages: Set<() => Promise<void>>;
	/** Completed stages of this process, in completion order (fork sources). */
	completed: StageResult[];
	/** Journals an event (durable ones reach the disk before a side effect runs, see FileJournal) and folds it. */
	record(event: JournalEvent, durable?: boolean): void;
	/** Forces what was journaled to the disk now: a side effect's start is on disk before it runs. */
	sync(): void;
	activity(stageId: string, activity: StageActivity): void;
	/** The one warning sink: journaled, and shown in report.json, status and show. */
	warn(message: string): void;
}

export interface Scope {
	services: RunServices;
	frontier: Frontier;
	signal: AbortSignal;
	/** Replay identities of the calls made in this scope. */
	calls: CallScope;
	/** The node the calls of this scope belong to (a child workflow's, a multi-turn stage's). */
	within?: string;
	/** The name of the parallel group (`ctx.parallel(..., { group })`) this scope is a branch of. */
	group?: string;
	/** The child workflow this scope runs in (absent: the run's own workflow). */
	frame?: WorkflowFrame;
	/** Where the stages of this scope work when they have no worktree of their own (absent: the run's cwd). */
	place?: StagePlace;
}

/** A child workflow while it runs: its name and outputs (for ctx.exit), depth, limits, and its own stop. */
export interface WorkflowFrame {
	name: string;
	/** The file the child's definition was loaded from, when it was. */
	file?: string;
	/** The child's node in the parent's graph. */
	nodeId: string;
	/** 1 for a child of the run's workflow, 2 for a grandchild, ... */
	depth: number;
	outputs: TProperties;
	/** The child's own limits (the run's apply too), checked over the nodes within it. */
	budget?: WorkflowBudget;
	/** Ends the child (not the run): its calls are stopped, `ctx.workflow` returns how it ended. */
	stop(stop: RunStop): void;
	/** How the child is being stopped, once it is. */
	stopping(): "stop" | "cancel" | undefined;
	parent?: WorkflowFrame;
}

/** Where a stage works: its cwd and, in a git worktree, the worktree. */
export interface StagePlace {
	cwd: string;
	worktree?: WorktreeRecord;
}
