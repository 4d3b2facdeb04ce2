// What the ctx calls of one run share: the run's services (journal, limiter, ids, models) and, per
// scope, the graph frontier and the abort signal. Parallel branches get scopes of their own.

import type { ExtensionUIContext, ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { StageResult, Usage, WorkflowBudget } from "../authoring/types.js";
import type { JournalEvent } from "../store/events.js";
import type { RunPaths } from "../store/run-directory.js";
import type { ModelResolution } from "../stages/model-spec.js";
import type { StageResourceOptions } from "../stages/stage-resources.js";
import type { StageActivity, StageRetrySettings } from "../stages/stage-session.js";
import type { CallScope } from "./call-identity.js";
import type { Frontier, StageIds } from "./graph.js";
import type { Limiter } from "./limiter.js";
import type { PromptBoard } from "./prompt-call.js";
import type { ReplayLog } from "./replay.js";

export interface RunServices {
	workflow: string;
	runId: string;
	paths: RunPaths;
	cwd: string;
	agentDir: string;
	/** The model registry to resolve the next stage's model with (the host's current one). */
	modelRegistry: () => ModelRegistry;
	/** Model for stages that name none (`provider/id[:level]`). */
	defaultModel?: string;
	/** Resolves a model spec with the current registry, for preparing a stage (successes are cached per
	 * registry; a stage that runs resolves its model again). */
	resolveModel(spec: string): ModelResolution;
	stageResources: StageResourceOptions;
	retry?: StageRetrySettings;
	uiContext?: ExtensionUIContext;
	budget?: WorkflowBudget;
	/** Run-wide limit on stage sessions in flight. */
	limiter: Limiter;
	ids: StageIds;
	/** What the journal recorded before this process took the run (empty for a new run). */
	replay: ReplayLog;
	/** The user's message for stages that were in flight when the run stopped (resume only). */
	resumeMessage?: string;
	/** Why the run is being stopped, once it is: a pause interrupts stages, a cancel ends them. */
	stopping(): "pause" | "cancel" | undefined;
	/** Questions to a person the run waits on. */
	prompts: PromptBoard;
	/** Steering handles of the stages running now, by stage id. */
	steerable: Map<string, (message: string) => Promise<void>>;
	/** Completed stages, in completion order (fork sources). */
	completed: StageResult[];
	/** Usage of every settled stage so far. */
	spent(): Usage;
	/** Journals an event (durable at stage boundaries) and tells observers. */
	record(event: JournalEvent, durable?: boolean): void;
	activity(stageId: string, activity: StageActivity): void;
}

export interface Scope {
	services: RunServices;
	frontier: Frontier;
	signal: AbortSignal;
	/** Replay identities of the calls made in this scope. */
	calls: CallScope;
}
