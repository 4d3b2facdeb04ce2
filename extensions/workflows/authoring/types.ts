// Public types of the authoring API: what a workflow's `run` receives (ctx) and what its calls return.
// Type-only: no Pi runtime imports, so workflow files and type tests stay light.

import type { Static, TObject, TProperties, TSchema } from "typebox";

/** Token and cost totals of one stage or a whole run. */
export interface Usage {
	input: number;
	output: number;
	cacheRead: number;
	cacheWrite: number;
	totalTokens: number;
	/** Cost in USD, as the provider's prices give it. */
	cost: number;
	/** Assistant messages (model calls that returned). */
	turns: number;
	toolCalls: number;
}

/** What a finished stage hands back to the workflow. */
export interface StageResult {
	/** Name the workflow gave the stage. */
	name: string;
	/** Unique id of the stage within the run (the name, with `-2`, `-3` for repeats). */
	id: string;
	/** Final assistant text; for `outputMode: "file-only"` a reference to the output file instead. */
	text: string;
	/** The stage's Pi transcript. */
	sessionFile: string;
	/** Absolute path of the file the final text was written to, when `output` was set. */
	outputPath?: string;
	/** Model that answered, as `provider/id` (with `:level` when a thinking level was set). */
	model: string;
	/** Spend of every attempt together. */
	usage: Usage;
	durationMs: number;
	/** Every model the stage tried, in order: the one that answered last. */
	attempts?: StageAttempt[];
	/** With `schema`: the result the stage submitted, checked against the schema. */
	structured?: unknown;
	/** A stage in a git worktree: what it changed there. */
	change?: StageChange;
}

/** One model's try at a stage. */
export interface StageAttempt {
	model: string;
	ok: boolean;
	error?: string;
	/** Why it failed, in one word (auth, quota, transient, timeout, ...). */
	kind?: string;
	/** Not tried (no credentials, or its provider refused earlier in the run). */
	skipped?: boolean;
	usage: Usage;
}

export type ContextMode = "fresh" | "fork";
export type OutputMode = "inline" | "file-only";

/** Small handoff from earlier stages: results (texts, or file references for file-only ones) or plain text. */
export type Previous = StageResult | readonly StageResult[] | string;

/** Options of one stage. */
export interface TaskOptions {
	/** What the stage must do (required: this or its other name, `task`). */
	prompt?: string;
	/** Another name for `prompt` (as workflow files written for Atomic say it). */
	task?: string;
	/** `fresh` (default) starts an empty session; `fork` continues from an earlier stage's transcript. */
	context?: ContextMode;
	/** With `context: "fork"`: name of the earlier stage to fork from (default: the single parent stage). */
	forkFrom?: string;
	/** With `context: "fork"`: a Pi session file to continue from instead of a stage of this run (a copy is made;
	 * the file itself is never written). */
	forkFromSessionFile?: string;
	/** `provider/id` or `provider/id:level`; default: the model the run was started with. */
	model?: string;
	/** Models to try in order when one fails in a way a retry cannot fix (auth, quota, overflow, silence, ...). */
	fallbackModels?: readonly string[];
	/** A TypeBox schema: the stage gets a `submit_result` tool taking it, and the result carries `structured`. */
	schema?: TSchema;
	/** The stage's own time limit, all attempts together. */
	timeoutMs?: number;
	/** No streamed output and no tool activity for this long stops an attempt (default 10 minutes; 0: never). */
	idleTimeoutMs?: number;
	/** How long one tool call counts as activity (default 30 minutes). */
	toolTimeoutMs?: number;
	/** Allow-list of tool names the stage may use (default: Pi's read, bash, edit, write). */
	tools?: readonly string[];
	/** Tools taken out of `tools` (or of the default list). */
	excludedTools?: readonly string[];
	/** Path the final assistant text is written to (relative paths land in the run's artifacts folder). */
	output?: string;
	/** `file-only` returns a reference to `output`, never the text (default `inline`). */
	outputMode?: OutputMode;
	/** Files handed to the stage; a missing one fails the stage before any model call. */
	reads?: readonly string[];
	/** Small handoff placed in the prompt. */
	previous?: Previous;
	/** Text appended to the stage's system prompt. */
	systemPrompt?: string;
	/** Limits of this stage alone (the run's budget applies too). */
	budget?: StageBudget;
	/** Work in a git worktree of its own, on a branch of its own (`true`: from HEAD), never in the user's checkout.
	 * Its change is saved as a `.patch` artifact and summarized in the result; `ctx.apply` brings it over. */
	worktree?: boolean | WorktreeOptions;
}

/** A git worktree for a stage or a whole run. */
export interface WorktreeOptions {
	/** The ref it starts from (default `HEAD`, the commit the user has checked out). */
	base?: string;
	/** Carry the user's uncommitted changes (staged, unstaged, untracked) into it; without it a dirty tree is
	 * refused. */
	carry?: boolean;
	/** Untracked setup the stages need, relative to the repository root (e.g. `node_modules`), linked in. */
	link?: readonly string[];
}

/** What a stage in a worktree changed: the patch artifact and its summary. */
export interface StageChange {
	/** The `.patch` file in the run's artifacts: `git diff --binary` from the worktree's base. */
	patchFile: string;
	files: Array<{ path: string; insertions: number; deletions: number; status: string }>;
	insertions: number;
	deletions: number;
	/** The worktree (absolute) and its branch; gone once the run ended, unless kept. */
	worktree: string;
	branch: string;
	/** The commit on the branch holding the change. */
	commit: string;
}

/** A stage inside `chain` or `parallel`: task options plus its name. */
export interface TaskStep extends TaskOptions {
	name: string;
}

export interface ChainOptions {
	/** Replaces `{task}` in the steps' prompts. */
	task?: string;
}

export interface ParallelOptions {
	/** Branches in flight at once (default: all; the run-wide stage limit still applies). */
	concurrency?: number;
	/** Stop the other branches at the first failure (default true). With false every branch runs to its end. */
	failFast?: boolean;
	/** A name for the group: its stages carry it (journal, report) and the graph labels the fork with it. */
	group?: string;
}

/** A parallel branch: a stage, or a function that runs its own sequence with a branch-scoped ctx. */
export type ParallelStep<I> = TaskStep | ((ctx: WorkflowContext<I>) => Promise<unknown>);

/** Results of `parallel`, in the order of the steps. */
export type ParallelResults<S extends readonly unknown[]> = {
	-readonly [K in keyof S]: S[K] extends (ctx: never) => Promise<infer R> ? R : StageResult;
};

/** Options of `ctx.tool`. */
export interface ToolCallOptions {
	/** Calls of `fn` after a failed one (default 0). */
	retries?: number;
	/** Limit of each call of `fn`; its signal is aborted when the time is up. */
	timeoutMs?: number;
	/** `throw` (default) fails with a StageError; `return` resolves `{ ok: false, error }` to branch on. */
	failureMode?: "throw" | "return";
	/** Calling `fn` twice has the same effect as calling it once (default false). */
	idempotent?: boolean;
	/**
	 * What a resume does with a call that started and did not finish (the process died or the run was stopped
	 * while `fn` ran, so its effect may or may not have happened): `rerun` calls `fn` again, `ask` asks a person
	 * (run it again, or treat it as done: the call then returns `null`), `fail` fails the run.
	 * Default: `rerun` for idempotent calls, else `ask`.
	 */
	onInterrupted?: "rerun" | "ask" | "fail";
}

/** What `fn` of `ctx.tool` receives next to its arguments. */
export interface ToolCallContext {
	/** Aborted when the run stops or the attempt times out. */
	signal: AbortSignal;
	/** 1 for the first call, 2 for the first retry, ... */
	attempt: number;
	/** The same for every attempt and every resume of this call, and different for every other call: hand it to
	 * an API that deduplicates requests, so an effect repeated after a crash is applied once. */
	idempotencyKey: string;
}

/** A failed `ctx.tool` call as data; command failures carry exit code and output. */
export interface ToolFailure {
	message: string;
	exitCode?: number;
	stdout?: string;
	stderr?: string;
}

/** What `ctx.tool` resolves with when `failureMode` is "return". */
export type ToolCallResult<T> = { ok: true; value: T } | { ok: false; error: ToolFailure };

/** Questions to a person (human gates). Each is a node in the graph; the run waits (status
 * awaiting_input) until someone answers, from the TUI, rpc, the workflow tool or `/workflow answer`. */
export interface WorkflowUI {
	input(message: string, options?: { placeholder?: string }): Promise<string>;
	confirm(message: string): Promise<boolean>;
	select<const O extends readonly string[]>(message: string, options: O): Promise<O[number]>;
	editor(message: string, initial?: string): Promise<string>;
}

/** How `ctx.exit` ends a run. */
export type ExitStatus = "completed" | "skipped" | "cancelled" | "blocked" | "failed";

export interface ExitOptions {
	status: ExitStatus;
	/** Why, in words: shown in status, show, the report and the completion message. */
	reason: string;
	/** Declared outputs to report (any subset); each is checked against its declared type. */
	outputs?: Record<string, unknown>;
}

/** Options of a multi-turn stage (`ctx.stage`): a stage's options without the prompt, which each `prompt()` gives.
 * One model (no fallbacks) and its own conversation (no fork). */
export type StageOptions = Omit<
	TaskOptions,
	"prompt" | "task" | "fallbackModels" | "context" | "forkFrom" | "forkFromSessionFile"
>;

/** A multi-turn stage: one conversation, several prompts. Await each prompt before the next; close it when done. */
export interface StageSession {
	/** The stage's name. */
	readonly id: string;
	/** Sends the next message and waits for the stage's answer. Each prompt is recorded: a resume replays it. */
	prompt(
		text: string,
		options?: Pick<TaskOptions, "output" | "outputMode" | "schema" | "previous" | "reads">,
	): Promise<StageResult>;
	/** Ends the conversation (the run closes sessions left open when it ends). */
	close(): Promise<void>;
}

/** Options of `ctx.apply`. */
export interface ApplyOptions {
	/** Ask a person first, showing the change (default true). */
	confirm?: boolean;
}

/** What `ctx.apply` did. A conflicting patch throws (a StageError listing the files) and applies nothing. */
export interface ApplyResult {
	/** False when the change was empty or the person said no. */
	applied: boolean;
	patchFile: string;
	files: string[];
	insertions: number;
	deletions: number;
	reason?: string;
}

/** Options of `ctx.workflow`. */
export interface ChildWorkflowOptions<I> {
	/** The child's inputs, checked against its declared inputs before it starts. */
	inputs?: I;
	/** The child's own limits (stages, turns, tool calls, tokens, cost), on top of the run's. Default: the child
	 * definition's budget. Reaching one ends the child `blocked`; the parent goes on. */
	budget?: Pick<WorkflowBudget, "maxStages" | "maxTurns" | "maxToolCalls" | "maxTokens" | "maxCostUsd">;
}

/** How a child workflow ended: it returned (`completed`), or it ended itself with ctx.exit, ctx.cancel or its own
 * budget (`exited`). A stop of the whole run, or an unexpected failure of the child, throws instead. */
export interface ChildWorkflowResult<O> {
	status: ExitStatus;
	/** All of them when it returned; the ones its ctx.exit reported when it exited. */
	outputs: Partial<O>;
	exited: boolean;
	reason?: string;
}

/** What `run` receives. */
export interface WorkflowContext<I> {
	/** Validated inputs. */
	readonly inputs: I;
	readonly runId: string;
	/** Project directory the run works in. */
	readonly cwd: string;
	/** The run's directory (journal, transcripts, artifacts, report). */
	readonly runDir: string;
	/** Runs one stage as its own Pi session. */
	task<S extends TSchema>(
		name: string,
		options: TaskOptions & { schema: S },
	): Promise<StageResult & { structured: Static<S> }>;
	task(name: string, options: TaskOptions): Promise<StageResult>;
	/** Opens a multi-turn stage: one Pi session that stays open for several prompts (`ctx.task` is the one-shot
	 * form). The session is one node in the graph; each prompt is a recorded call inside it. */
	stage(name: string, options?: StageOptions): StageSession;
	/** Runs stages one after another; `{previous}` is the prior step's text, `{task}` the chain's task. */
	chain(steps: readonly TaskStep[], options?: ChainOptions): Promise<StageResult[]>;
	/**
	 * Runs a side effect once and records its JSON result in the journal (a node in the graph): on resume
	 * the recorded result is returned without calling `fn`. Same name and arguments = same call.
	 */
	tool<A, T>(
		name: string,
		args: A,
		fn: (args: A, call: ToolCallContext) => T | Promise<T>,
		options?: ToolCallOptions & { failureMode?: "throw" },
	): Promise<T>;
	tool<A, T>(
		name: string,
		args: A,
		fn: (args: A, call: ToolCallContext) => T | Promise<T>,
		options: ToolCallOptions & { failureMode: "return" },
	): Promise<ToolCallResult<T>>;
	/**
	 * Brings a worktree stage's change (or a patch file) into the user's checkout: all of it or nothing, after a
	 * person approved it (unless `confirm: false`). Recorded: a resume never applies twice.
	 */
	apply(source: StageResult | string, options?: ApplyOptions): Promise<ApplyResult>;
	/** Asks a person; answered prompts replay on resume, so nobody is asked twice. */
	readonly ui: WorkflowUI;
	/** Ends the run with status `cancelled` and this reason (for a "no" at a gate). */
	cancel(reason?: string): never;
	/**
	 * For loops: pass what you consider the loop's state each round (a hash of the diff and the failing tests, say).
	 * The same signature `limit` times in a row (default 3) ends the run `blocked`, reason "no progress".
	 */
	progress(signature: unknown, options?: { limit?: number }): void;
	/**
	 * Ends the run at once with this status and reason, shown everywhere, and the declared outputs given (checked
	 * against their types; missing ones are left out). It never returns: running stages are stopped.
	 * `completed` and `skipped` end a run for good, like `cancelled`; a `blocked` or `failed` run can be resumed.
	 */
	exit(options: ExitOptions): never;
	/**
	 * Runs another workflow inside this run, as one node of its graph with the child's calls inside it. The child
	 * shares the run's journal, budget and replay: a finished child returns its recorded result on resume.
	 */
	workflow<CI extends TProperties, CO extends TProperties>(
		definition: WorkflowDefinition<CI, CO>,
		options?: ChildWorkflowOptions<InferSchema<CI>>,
	): Promise<ChildWorkflowResult<InferSchema<CO>>>;
	/** Runs branches side by side; they share one set of parent stages. */
	parallel<const S extends readonly ParallelStep<I>[]>(
		steps: S,
		options?: ParallelOptions,
	): Promise<ParallelResults<S>>;
}

/**
 * Limits of a run. Once one is reached no new stage starts and the running ones are stopped (a run overshoots by at
 * most the model turns in flight); the run is `blocked`, with a reason naming the limit and the figures, and a
 * resume with a larger budget continues it. Every stage, fallback attempt and child workflow counts.
 */
export interface WorkflowBudget {
	/** Stages the run may start in all (default 200, so no run starts thousands of stages unasked). */
	maxStages?: number;
	/** Model turns (answers of a model), all stages together. */
	maxTurns?: number;
	/** Tool calls made by the stages' models, all together. */
	maxToolCalls?: number;
	/** Tokens in and out, all stages together. */
	maxTokens?: number;
	/** USD, at the providers' prices; refused at start for a model whose price is unknown (0). */
	maxCostUsd?: number;
	/** Time the run is driven, across resumes (time it spends paused or stopped does not count). */
	maxDurationMs?: number;
	/** Warn (in the report, status and show) once spending crosses this share of a limit, in percent. */
	warnAtPercent?: number;
}

/** Limits of one stage: reaching one stops the stage, which fails with a reason naming the limit. */
export type StageBudget = Pick<
	WorkflowBudget,
	"maxTurns" | "maxToolCalls" | "maxTokens" | "maxCostUsd" | "maxDurationMs"
>;

export type InferSchema<P extends TProperties> = Static<TObject<P>>;

/** A workflow as `workflow()` returns it. */
export interface WorkflowDefinition<I extends TProperties = TProperties, O extends TProperties = TProperties> {
	readonly kind: "pi-workflow";
	/** Its name; "" until the loader names it after its file (a workflow declared without one). */
	readonly name: string;
	/** The file it was loaded from (set by the loader). */
	readonly file?: string;
	readonly description: string;
	readonly inputs: I;
	readonly outputs: O;
	readonly budget?: WorkflowBudget;
	/** Run every stage in one git worktree of the run (`true`: from HEAD); `ctx.cwd` is inside it. */
	readonly worktree?: boolean | WorktreeOptions;
	readonly run: (ctx: WorkflowContext<InferSchema<I>>) => Promise<InferSchema<O>>;
}

/** Any workflow, whatever its schemas. */
// biome-ignore lint/suspicious/noExplicitAny: the variance of `run` makes a precise "any workflow" type impossible.
export type AnyWorkflowDefinition = WorkflowDefinition<any, any>;
