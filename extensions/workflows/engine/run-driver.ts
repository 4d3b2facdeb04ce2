// Drives one run in this process, a new run and a resumed one alike: runs the workflow's `run` with a ctx whose
// calls replay what earlier processes recorded (through the run's fold), serves pause / cancel / steer /
// answer requests (from this process and, through the store's mailbox, from others), and at the end journals
// how the run stopped and gives up ownership. `done` always settles with the final report.

import { setMaxListeners } from "node:events";
import type { AnyWorkflowDefinition, StageResult, WorkflowBudget } from "../authoring/types.js";
import { checkOutputs } from "../authoring/validate.js";
import { type ModelResolution, resolveModelSpec } from "../stages/model-spec.js";
import type { JournalEvent, RunFinishedEvent, RunPausedEvent } from "../store/events.js";
import type { RunReport } from "../store/report.js";
import type { RunPaths } from "../store/run-directory.js";
import type { NodeState } from "../store/run-fold.js";
import type { ControlRequest } from "../store/run-mailbox.js";
import type { OpenedRun, RunStore } from "../store/run-store.js";
import { RunBreakers } from "./breakers.js";
import { BudgetExceededError, budgetLimits, RunBudget } from "./budget.js";
import { CallScope } from "./call-identity.js";
import { type PendingPrompt, PromptBoard } from "./calls/prompt-board.js";
import { runWorktree } from "./calls/worktree-call.js";
import { createContext } from "./context.js";
import { Frontier, StageIds } from "./graph.js";
import type { LeaseRelay } from "./lease-relay.js";
import { createLimiter } from "./limiter.js";
import { ProgressWatch } from "./progress-watch.js";
import { type RunProgressEvent, RunRecorder } from "./run-recorder.js";
import type { RunSettings } from "./run-settings.js";
import { finishedWithError, honestEnd, InvalidOutputsError, type Stopping } from "./run-stops.js";
import { staysOpen } from "./runs.js";
import type { RunServices, Scope } from "./scope.js";
import { queuedReply, steerForLater, undeliverable } from "./steer-queue.js";
import { keepsWorktrees, removeRunWorktrees, worktreeOptions } from "./worktrees.js";

export type { RunProgressEvent } from "./run-recorder.js";

export interface WorkflowRun {
	runId: string;
	paths: RunPaths;
	/** The report as of now, from the run's fold. */
	report(): RunReport;
	/** The run's nodes as folded so far, in the order they first started (the live view reads them). */
	nodes(): Iterable<NodeState>;
	/** Reports a problem of the run's surroundings (a view that failed, say) through the run's warning sink. */
	warn(message: string): void;
	/** Settles with the final report; never rejects (failures are in the report). */
	done: Promise<RunReport>;
	/** Stops the run for good: running stages are aborted, nothing new starts, status `cancelled`. */
	cancel(reason?: string): void;
	/** Stops the run so it can be resumed: running stages are interrupted, status `paused`. */
	pause(reason?: string): void;
	/** Delivers a message to a running stage before its next model call, or keeps it for a stage that has not
	 * started (delivered when it starts); says which. Throws, sending nothing, for a stage that ended. */
	steer(stageId: string, message: string): Promise<string>;
	/** Questions the run waits on now. */
	pending(): PendingPrompt[];
	/** Answers a waiting question (the only one when no id is given); throws, changing nothing, when the
	 * run does not wait for it or the answer does not fit (the error says what is valid). */
	answer(promptId: string | undefined, value: unknown): string;
}

export interface DriveOptions {
	definition: AnyWorkflowDefinition;
	inputs: Record<string, unknown>;
	store: RunStore;
	/** The run as opened (or created) for this process: files, journal so far, writer, lease. */
	opened: OpenedRun;
	/** Relays what the lease reports (taken before the driver existed) to the driver. */
	lease: LeaseRelay;
	/** The event that opens this process's part of the run: run_started or run_resumed. */
	opening: JournalEvent;
	settings: RunSettings;
	signal?: AbortSignal;
	resumeMessage?: string;
	/** Limits for this run only (a command's --budget), on top of the workflow's and earlier overrides. */
	budgetOverride?: WorkflowBudget;
	/** Told when a question starts waiting, so the surface can show it. */
	onPrompt?: (prompt: PendingPrompt) => void;
	onEvent?: (event: RunProgressEvent) => void;
}

export function driveRun(options: DriveOptions): WorkflowRun {
	const { definition, opened, settings } = options;
	const { paths } = opened;
	const runId = paths.runId;

	const abort = new AbortController();
	// Every stage in flight listens to the run's signal; a wide fan-out is not a listener leak.
	setMaxListeners(0, abort.signal);
	let stopping: Stopping | undefined;
	const halt = (how: Stopping) => {
		if (abort.signal.aborted) return;
		stopping = how;
		// Journaled the moment it is accepted: a process killed while its stages stop leaves the decision behind.
		try {
			recorder.record(
				{
					type: "run_stopping",
					at: new Date().toISOString(),
					mode: how.mode,
					reason: how.reason,
					...(how.mode === "stop" ? { status: how.stop.status } : {}),
				},
				true,
			);
		} catch (error) {
			recorder.warn(`the stop could not be journaled: ${error instanceof Error ? error.message : String(error)}`);
		}
		abort.abort();
	};
	const stop = (mode: "pause" | "cancel", reason: string) => halt({ mode, reason });
	const recorder = new RunRecorder(paths, opened.journal, opened.lease, opened.contents, options.onEvent, (reason) =>
		stop("pause", reason),
	);
	options.lease.bind(recorder);
	try {
		// Listed while it is driven: a process that dies now leaves it where session start looks.
		options.store.markOpen(runId, true);
	} catch (error) {
		recorder.warn(
			`the list of open runs could not be updated: ${error instanceof Error ? error.message : String(error)}`,
		);
	}
	const onExternalAbort = () => stop("cancel", "the caller aborted the run");
	options.signal?.addEventListener("abort", onExternalAbort, { once: true });

	// The limits in force: the workflow's, with every one-run override given so far (this one last) on top.
	const earlier = recorder.fold.run.budgetOverride;
	const override = earlier || options.budgetOverride ? { ...earlier, ...options.budgetOverride } : undefined;
	const budget = new RunBudget(budgetLimits(definition.budget, override), recorder.fold, (message) =>
		recorder.warn(message),
	);

	const services: RunServices = {
		workflow: definition.name,
		...(definition.file ? { workflowFile: definition.file } : {}),
		runId,
		paths,
		settings,
		resolveModel: cachedModelResolver(settings),
		budget,
		outputs: definition.outputs,
		progress: new ProgressWatch(definition.name),
		breakers: new RunBreakers(),
		stopRun: (runStop) => halt({ mode: "stop", reason: runStop.reason, stop: runStop }),
		limiter: createLimiter(settings.concurrency),
		ids: new StageIds(recorder.fold.usedIds()),
		fold: recorder.fold,
		resumeMessage: options.resumeMessage,
		stopping: () => stopping?.mode,
		prompts: new PromptBoard(runId, (prompt) => {
			if (settings.inputMode === "stop") return stop("pause", `awaiting input: prompt "${prompt.id}"`);
			try {
				options.onPrompt?.(prompt);
			} catch (error) {
				// The question stays pending, answerable from any other surface.
				recorder.warn(`a question could not be shown: ${error instanceof Error ? error.message : String(error)}`);
			}
		}),
		steerable: new Map(),
		lateSteers: new Map(),
		openStages: new Set(),
		completed: [] as StageResult[],
		record: (event, durable) => recorder.record(event, durable),
		sync: () => recorder.sync(),
		activity: (stageId, activity) => recorder.activity(stageId, activity),
		warn: (message) => recorder.warn(message),
	};

	const steer = async (stageId: string, message: string): Promise<string> => {
		const deliver = services.steerable.get(stageId);
		if (deliver) {
			await deliver(message);
			recorder.record({ type: "node_steered", at: new Date().toISOString(), stageId, message }, true);
			return `Delivered to stage "${stageId}" of run ${runId}.`;
		}
		const node = recorder.fold.node(stageId);
		if (node?.kind === "task" && node.status === "running") {
			// Started, its session not yet open: handed over the moment it is.
			services.lateSteers.set(stageId, [...(services.lateSteers.get(stageId) ?? []), message]);
			recorder.record({ type: "node_steered", at: new Date().toISOString(), stageId, message }, true);
			return `Stage "${stageId}" of run ${runId} is starting; the message reaches it as its session opens.`;
		}
		const later = steerForLater(recorder.fold, runId, stageId, message);
		recorder.record(later, true);
		return queuedReply(recorder.fold, runId, later);
	};
	const answer = (promptId: string | undefined, value: unknown) => {
		const answered = services.prompts.answer(promptId, value);
		return `Answered prompt "${answered.prompt.id}" of run ${runId}: ${JSON.stringify(answered.value)}.`;
	};

	recorder.record(
		{
			...options.opening,
			budget: budget.limits,
			...(options.budgetOverride ? { budgetOverride: options.budgetOverride } : {}),
		} as JournalEvent,
		true,
	);
	recorder.flushReport();
	if (options.signal?.aborted) stop("cancel", "the caller aborted the run");
	// A duration limit stops the run when its time is up, running stages included (a timer that fires a little
	// early waits out the rest).
	let durationTimer: ReturnType<typeof setTimeout> | undefined;
	const armDuration = () => {
		const remaining = budget.remainingMs();
		if (remaining === undefined) return;
		durationTimer = setTimeout(() => {
			if ((budget.remainingMs() ?? 0) > 0) armDuration();
			else services.stopRun(new BudgetExceededError(budget.durationReason()));
		}, remaining);
		durationTimer.unref?.();
	};
	armDuration();

	let done: Promise<RunReport> | undefined;
	const handleControl = async (request: ControlRequest) => {
		if (request.type === "answer") return { ok: true, message: answer(request.promptId, request.value) };
		if (request.type === "steer") return { ok: true, message: await steer(request.stageId, request.message) };
		stop(request.type, request.reason ?? `${request.type === "pause" ? "paused" : "cancelled"} from another process`);
		return { ok: true, message: await stopReply(runId, request.type, done as Promise<RunReport>) };
	};
	let stopServing = () => {};

	done = (async (): Promise<RunReport> => {
		let finished: RunFinishedEvent | RunPausedEvent;
		try {
			const scope: Scope = { services, frontier: new Frontier(), signal: abort.signal, calls: new CallScope() };
			// A workflow declared with a worktree works in one for the whole run: made (or found) first.
			const own = worktreeOptions(definition.worktree);
			if (own) {
				const worktree = await runWorktree(scope, own);
				scope.place = { cwd: worktree.cwd, worktree };
			}
			const outputs = await definition.run(createContext(scope, options.inputs));
			// Multi-turn stages the workflow left open are closed: their sessions end with the run.
			await Promise.all([...services.openStages].map((close) => close()));
			const problems = checkOutputs(definition.outputs, outputs);
			if (problems.length > 0) throw new InvalidOutputsError(definition.name, problems);
			finished = honestEnd(recorder.fold, {
				type: "run_finished",
				at: new Date().toISOString(),
				status: "completed",
				outputs: outputs as Record<string, unknown>,
			});
		} catch (error) {
			finished = finishedWithError(definition.name, error, stopping);
		} finally {
			abort.abort();
			clearTimeout(durationTimer);
			options.signal?.removeEventListener("abort", onExternalAbort);
		}
		try {
			recorder.record(finished, true);
		} catch (error) {
			recorder.warn(
				`the end of the run could not be journaled: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
		// A run that ended for good removes its worktrees (their patches stay in the artifacts); any other keeps
		// them for a resume, and status says where they are.
		const ended = recorder.fold.status();
		if (ended === "completed" || ended === "skipped" || ended === "cancelled") {
			for (const lost of undeliverable(recorder.fold, `the run ended ${ended}`)) {
				recorder.record(lost, true);
				if (lost.type === "node_undeliverable")
					recorder.warn(`${lost.reason}; ${lost.messages.length} message(s) undeliverable`);
			}
		}
		if (!keepsWorktrees(ended, settings.keepWorktrees)) {
			await removeRunWorktrees(recorder.fold, (message) => recorder.warn(message));
		}
		try {
			// Session start looks only at runs still open: one that ended for good leaves the list.
			options.store.markOpen(runId, staysOpen(ended));
		} catch (error) {
			recorder.warn(
				`the list of open runs could not be updated: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
		stopServing();
		return recorder.finish();
	})();

	// Served once `done` exists: a request already waiting in the mailbox is handled at once.
	stopServing = options.store.serve(runId, handleControl, (message) => recorder.warn(message));

	return {
		runId,
		paths,
		report: () => recorder.report(),
		nodes: () => recorder.fold.nodes(),
		warn: (message) => recorder.warn(message),
		done,
		cancel: (reason = "cancelled by the user") => stop("cancel", reason),
		pause: (reason = "paused by the user") => stop("pause", reason),
		steer,
		pending: () => services.prompts.pending(),
		answer,
	};
}

/** How long a pause or cancel waits for the run to stop before it answers that the stop is under way. */
export const STOP_REPLY_MS = 5_000;

/** What a pause or cancel answers: the run's end, or (when its stages take longer to stop) that it is stopping. */
export async function stopReply(runId: string, type: "pause" | "cancel", done: Promise<RunReport>): Promise<string> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<undefined>((resolve) => {
		timer = setTimeout(() => resolve(undefined), STOP_REPLY_MS);
	});
	const final = await Promise.race([done, late]);
	clearTimeout(timer);
	if (final) return `Run ${runId} ${final.status}.${final.status === "paused" ? ` ${resumeHint(runId)}` : ""}`;
	const verb = type === "pause" ? "pause" : "cancel";
	const then = type === "pause" ? ` ${resumeHint(runId)}` : "";
	return `Run ${runId}: the ${verb} was accepted and journaled; its running stages are stopping (a stage whose provider ignores the stop is abandoned shortly).${then}`;
}

/** What continues a paused run, said where it was paused. */
export function resumeHint(runId: string): string {
	return `Resume it with /workflow resume ${runId} (finished stages are not run again).`;
}

/** A replay prepares every recorded stage again; resolving a spec once per registry keeps that cheap. Only
 * successes are kept, so a fixed credential is seen at once. */
function cachedModelResolver(settings: RunSettings): (spec: string) => ModelResolution {
	const resolved = new WeakMap<object, Map<string, ModelResolution>>();
	return (spec) => {
		const registry = settings.modelRegistry();
		const known = resolved.get(registry) ?? new Map<string, ModelResolution>();
		resolved.set(registry, known);
		const cached = known.get(spec);
		if (cached) return cached;
		const resolution = resolveModelSpec(spec, registry);
		if (resolution.ok) known.set(spec, resolution);
		return resolution;
	};
}
