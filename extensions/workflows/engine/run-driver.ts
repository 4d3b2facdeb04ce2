// Drives one run in this process, for a new run and a resumed one alike: journals events (keeping the
// report current), runs the workflow's `run` with a ctx whose calls replay what earlier processes
// recorded, serves pause / cancel / steer requests (from this process and, through the run's mailbox,
// from others), and at the end journals how the run stopped and gives up the run's lock.

import type { ExtensionUIContext } from "@mariozechner/pi-coding-agent";
import { getAgentDir, type ModelRegistry } from "@mariozechner/pi-coding-agent";
import { StageError } from "../authoring/stage-error.js";
import type { AnyWorkflowDefinition, StageResult } from "../authoring/types.js";
import { checkOutputs } from "../authoring/validate.js";
import { WorkflowCancelled } from "../authoring/workflow-cancelled.js";
import type { JournalEvent, RunFinishedEvent, RunPausedEvent } from "../store/events.js";
import type { FileJournal } from "../store/journal.js";
import { buildReport, type RunReport, writeReport } from "../store/report.js";
import { listArtifacts, type RunPaths } from "../store/run-directory.js";
import type { RunLock } from "../store/run-lock.js";
import { type ControlRequest, serveControlRequests } from "../store/run-mailbox.js";
import { SpendLedger } from "../store/spend-ledger.js";
import { type ModelResolution, resolveModelSpec } from "../stages/model-spec.js";
import type { StageResourceOptions } from "../stages/stage-resources.js";
import type { StageActivity, StageRetrySettings } from "../stages/stage-session.js";
import { BudgetExceededError } from "./budget.js";
import { CallScope } from "./call-identity.js";
import { createContext } from "./context.js";
import { Frontier, StageIds } from "./graph.js";
import { createLimiter } from "./limiter.js";
import { type PendingPrompt, PromptBoard } from "./prompt-call.js";
import { ReplayLog } from "./replay.js";
import type { RunServices } from "./scope.js";

/** report.json is a view of the journal: rewritten at most this often while a run moves, and at its end. */
const REPORT_INTERVAL_MS = 250;

export type RunProgressEvent =
	| { type: "journal"; runId: string; event: JournalEvent }
	| { type: "activity"; runId: string; stageId: string; activity: StageActivity };

export interface WorkflowRun {
	runId: string;
	paths: RunPaths;
	/** The report as of now, rebuilt from the journal events. */
	report(): RunReport;
	/** Settles with the final report; never rejects for workflow failures (they are in the report). */
	done: Promise<RunReport>;
	/** Stops the run for good: running stages are aborted, nothing new starts, status `cancelled`. */
	cancel(reason?: string): void;
	/** Stops the run so it can be resumed: running stages are interrupted, status `paused`. */
	pause(reason?: string): void;
	/** Delivers a message to a running stage before its next model call; throws when it is not running. */
	steer(stageId: string, message: string): Promise<void>;
	/** Questions the run waits on now. */
	pending(): PendingPrompt[];
	/** Answers a waiting question (the only one when no id is given); throws, changing nothing, when the
	 * run does not wait for it or the answer does not fit (the error says what is valid). */
	answer(promptId: string | undefined, value: unknown): string;
}

export interface DriveOptions {
	definition: AnyWorkflowDefinition;
	inputs: Record<string, unknown>;
	paths: RunPaths;
	journal: FileJournal;
	lock: RunLock;
	/** Events an earlier process journaled (a resume), replayed by the ctx calls. */
	previous: readonly JournalEvent[];
	/** The event that opens this process's part of the run: run_started or run_resumed. */
	opening: JournalEvent;
	cwd: string;
	modelRegistry: ModelRegistry | (() => ModelRegistry);
	defaultModel?: string;
	agentDir?: string;
	concurrency: number;
	signal?: AbortSignal;
	stageResources?: StageResourceOptions;
	retry?: StageRetrySettings;
	uiContext?: ExtensionUIContext;
	resumeMessage?: string;
	/** "wait" (default): a question waits for an answer; "stop": the run stops there (headless), status
	 * awaiting_input, and a later answer continues it. */
	inputMode?: "wait" | "stop";
	/** Told when a question starts waiting, so the surface can show it. */
	onPrompt?: (prompt: PendingPrompt) => void;
	onEvent?: (event: RunProgressEvent) => void;
}

export function driveRun(options: DriveOptions): WorkflowRun {
	const { definition, paths, journal } = options;
	const runId = paths.runId;
	const events: JournalEvent[] = [...options.previous];
	const ledger = new SpendLedger();
	for (const event of events) ledger.apply(event);
	const replay = ReplayLog.fromEvents(events);

	const report = () =>
		buildReport({ header: journal.header, events, warnings: [] }, paths.runDir, listArtifacts(paths));
	// Rewriting the whole report on every event made a run quadratic in its stages; coalesce the writes.
	let reportTimer: ReturnType<typeof setTimeout> | undefined;
	const flushReport = () => {
		clearTimeout(reportTimer);
		reportTimer = undefined;
		writeReport(paths, report());
	};
	const notify = (event: RunProgressEvent) => {
		try {
			options.onEvent?.(event);
		} catch {
			// An observer's failure must never break the run.
		}
	};
	const record = (event: JournalEvent, durable = false) => {
		journal.append(event, { durable });
		events.push(event);
		ledger.apply(event);
		if (event.type === options.opening.type) flushReport();
		else reportTimer ??= setTimeout(flushReport, REPORT_INTERVAL_MS);
		notify({ type: "journal", runId, event });
	};

	const abort = new AbortController();
	let stopping: { mode: "pause" | "cancel"; reason: string } | undefined;
	const stop = (mode: "pause" | "cancel", reason: string) => {
		if (abort.signal.aborted) return;
		stopping = { mode, reason };
		abort.abort();
	};
	const onExternalAbort = () => stop("cancel", "the caller aborted the run");
	options.signal?.addEventListener("abort", onExternalAbort, { once: true });

	const registry = options.modelRegistry;
	const currentRegistry = typeof registry === "function" ? registry : () => registry;
	// A replay prepares every recorded stage again; scanning the registry's model list each time was a
	// quarter of a resume's time. Only successes are kept, so a fixed credential is seen at once.
	const resolved = new WeakMap<ModelRegistry, Map<string, ModelResolution>>();
	const resolveModel = (spec: string): ModelResolution => {
		const current = currentRegistry();
		const known = resolved.get(current) ?? new Map<string, ModelResolution>();
		resolved.set(current, known);
		const cached = known.get(spec);
		if (cached) return cached;
		const resolution = resolveModelSpec(spec, current);
		if (resolution.ok) known.set(spec, resolution);
		return resolution;
	};
	const services: RunServices = {
		workflow: definition.name,
		runId,
		paths,
		cwd: options.cwd,
		agentDir: options.agentDir ?? getAgentDir(),
		modelRegistry: currentRegistry,
		defaultModel: options.defaultModel,
		resolveModel,
		stageResources: options.stageResources ?? {},
		retry: options.retry,
		uiContext: options.uiContext,
		budget: definition.budget,
		limiter: createLimiter(options.concurrency),
		ids: new StageIds(replay.usedIds),
		replay,
		resumeMessage: options.resumeMessage,
		stopping: () => stopping?.mode,
		prompts: new PromptBoard(runId, (prompt) => {
			if (options.inputMode === "stop") stop("pause", `awaiting input: prompt "${prompt.id}"`);
			else {
				try {
					options.onPrompt?.(prompt);
				} catch {
					// A surface's failure to show a question leaves it pending, answerable from any other.
				}
			}
		}),
		steerable: new Map(),
		completed: [] as StageResult[],
		spent: () => ledger.total(),
		record,
		activity: (stageId, activity) => notify({ type: "activity", runId, stageId, activity }),
	};

	const steer = async (stageId: string, message: string) => {
		const deliver = services.steerable.get(stageId);
		if (!deliver) {
			const running = [...services.steerable.keys()];
			throw new Error(
				`Run ${runId}: stage "${stageId}" is not running (running now: ${running.join(", ") || "none"}); nothing was sent.`,
			);
		}
		await deliver(message);
		record({ type: "stage_steered", at: new Date().toISOString(), stageId, message }, true);
	};

	record(options.opening, true);
	if (options.signal?.aborted) stop("cancel", "the caller aborted the run");

	const answer = (promptId: string | undefined, value: unknown) => {
		const answered = services.prompts.answer(promptId, value);
		return `Answered prompt "${answered.prompt.id}" of run ${runId}: ${JSON.stringify(answered.value)}.`;
	};

	let done: Promise<RunReport> | undefined;
	const handleControl = async (request: ControlRequest) => {
		if (request.type === "answer") return { ok: true, message: answer(request.promptId, request.value) };
		if (request.type === "steer") {
			await steer(request.stageId, request.message);
			return { ok: true, message: `Delivered to stage "${request.stageId}" of run ${runId}.` };
		}
		stop(request.type, request.reason ?? `${request.type === "pause" ? "paused" : "cancelled"} from another process`);
		const final = await (done as Promise<RunReport>);
		return { ok: true, message: `Run ${runId} ${final.status}.` };
	};
	let stopServing = () => {};

	done = (async (): Promise<RunReport> => {
		let finished: RunFinishedEvent | RunPausedEvent;
		try {
			const ctx = createContext(
				{ services, frontier: new Frontier(), signal: abort.signal, calls: new CallScope() },
				options.inputs,
			);
			const outputs = await definition.run(ctx);
			const outputProblems = checkOutputs(definition.outputs, outputs);
			if (outputProblems.length > 0) {
				throw new Error(`Workflow "${definition.name}": invalid outputs:\n- ${outputProblems.join("\n- ")}`);
			}
			finished = {
				type: "run_finished",
				at: new Date().toISOString(),
				status: "completed",
				outputs: outputs as Record<string, unknown>,
			};
		} catch (error) {
			finished = finishedWithError(definition.name, error, stopping);
		} finally {
			abort.abort();
			options.signal?.removeEventListener("abort", onExternalAbort);
		}
		let final: RunReport;
		try {
			record(finished, true);
			clearTimeout(reportTimer);
			final = report();
			writeReport(paths, final);
		} finally {
			stopServing();
			journal.close();
			options.lock.release();
		}
		return final;
	})();

	// Served once `done` exists: a request already waiting in the mailbox is handled at once.
	stopServing = serveControlRequests(paths.runDir, handleControl);

	return {
		runId,
		paths,
		report,
		done,
		cancel: (reason = "cancelled by the user") => stop("cancel", reason),
		pause: (reason = "paused by the user") => stop("pause", reason),
		steer,
		pending: () => services.prompts.pending(),
		answer,
	};
}

function finishedWithError(
	workflow: string,
	error: unknown,
	stopping: { mode: "pause" | "cancel"; reason: string } | undefined,
): RunFinishedEvent | RunPausedEvent {
	const at = new Date().toISOString();
	if (error instanceof WorkflowCancelled)
		return { type: "run_finished", at, status: "cancelled", reason: error.reason };
	if (stopping?.mode === "pause") return { type: "run_paused", at, reason: stopping.reason };
	if (stopping) return { type: "run_finished", at, status: "cancelled", reason: stopping.reason };
	if (error instanceof BudgetExceededError) {
		return {
			type: "run_finished",
			at,
			status: "blocked",
			reason: error.message,
			error: `Workflow "${workflow}": ${error.message}`,
		};
	}
	if (error instanceof StageError || (error instanceof Error && error.message.startsWith(`Workflow "${workflow}"`))) {
		return { type: "run_finished", at, status: "failed", error: error.message };
	}
	const message = error instanceof Error ? error.message : String(error);
	return { type: "run_finished", at, status: "failed", error: `Workflow "${workflow}": ${message}` };
}
