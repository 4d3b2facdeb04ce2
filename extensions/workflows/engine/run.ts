// The programmatic runner every surface shares: validates inputs, creates the run directory and
// journal, runs the workflow's `run` with a ctx, validates outputs, and keeps report.json current.
// `startWorkflow` returns at once with the run id; `runWorkflow` waits for the final report.

import { type ExtensionUIContext, getAgentDir, type ModelRegistry } from "@mariozechner/pi-coding-agent";
import { StageError } from "../authoring/stage-error.js";
import type { AnyWorkflowDefinition, StageResult, Usage } from "../authoring/types.js";
import { addUsage, zeroUsage } from "../authoring/usage.js";
import { checkInputs, checkOutputs } from "../authoring/validate.js";
import type { JournalEvent, RunFinishedEvent } from "../journal/events.js";
import { FileJournal } from "../journal/journal.js";
import { buildReport, type RunReport, writeReport } from "../journal/report.js";
import { createRunDirectory, listArtifacts, newRunId, type RunPaths } from "../journal/run-directory.js";
import type { StageResourceOptions } from "../stages/stage-resources.js";
import type { StageActivity, StageRetrySettings } from "../stages/stage-session.js";
import { BudgetExceededError } from "./budget.js";
import { createContext } from "./context.js";
import { Frontier, StageIds } from "./graph.js";
import { createLimiter } from "./limiter.js";
import type { RunServices } from "./scope.js";

export const DEFAULT_CONCURRENCY = 4;

/** report.json is a view of the journal: rewritten at most this often while a run moves, and at its end. */
const REPORT_INTERVAL_MS = 250;

export interface RunWorkflowOptions {
	/** Project directory: stages work here and the run directory is created under it. */
	cwd: string;
	/** The host's model registry (providers, models.json, credentials), or a getter for the current one:
	 * a host that replaces its registry mid-run (Pi on /new or /reload) hands later stages the new one. */
	modelRegistry: ModelRegistry | (() => ModelRegistry);
	/** Model for stages that name none, as `provider/id[:level]`. */
	defaultModel?: string;
	/** Pi's agent directory for the user's resources (default: Pi's, honouring PI_CODING_AGENT_DIR). */
	agentDir?: string;
	/** Run-wide limit on stage sessions in flight (default 4). */
	concurrency?: number;
	runId?: string;
	/** Aborting it cancels the run. */
	signal?: AbortSignal;
	/** File the workflow came from, recorded in the journal. */
	workflowFile?: string;
	stageResources?: StageResourceOptions;
	/** Pi's retries of transient provider errors in stages (default: on, Pi's defaults). */
	retry?: StageRetrySettings;
	/** Where dialogs raised inside stages go. */
	uiContext?: ExtensionUIContext;
	/** Progress: every journal event and live stage activity. */
	onEvent?: (event: RunProgressEvent) => void;
}

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
	/** Stops the run: running stages are aborted, nothing new starts, status becomes `cancelled`. */
	cancel(reason?: string): void;
}

/** Starts a run and returns at once. Throws, having written nothing, when inputs or options are invalid. */
export function startWorkflow(
	definition: AnyWorkflowDefinition,
	inputs: unknown,
	options: RunWorkflowOptions,
): WorkflowRun {
	const problems = checkInputs(definition.inputs, inputs ?? {});
	if (problems.length > 0) {
		throw new Error(`Workflow "${definition.name}": invalid inputs:\n- ${problems.join("\n- ")}`);
	}
	const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
	const limiter = createLimiter(concurrency);

	const runId = options.runId ?? newRunId();
	const paths = createRunDirectory(options.cwd, runId);
	const journal = FileJournal.create(paths.journal, {
		runId,
		workflow: definition.name,
		createdAt: new Date().toISOString(),
	});
	const events: JournalEvent[] = [];
	const report = () =>
		buildReport({ header: journal.header, events, warnings: [] }, paths.runDir, listArtifacts(paths));
	// Rewriting the whole report on every event made a run quadratic in its stages; coalesce the writes.
	let reportTimer: ReturnType<typeof setTimeout> | undefined;
	const flushReport = () => {
		clearTimeout(reportTimer);
		reportTimer = undefined;
		writeReport(paths, report());
	};
	const scheduleReport = () => {
		reportTimer ??= setTimeout(flushReport, REPORT_INTERVAL_MS);
	};
	const notify = (event: RunProgressEvent) => {
		try {
			options.onEvent?.(event);
		} catch {
			// An observer's failure must never break the run.
		}
	};

	let spent: Usage = zeroUsage();
	const record = (event: JournalEvent, durable = false) => {
		journal.append(event, { durable });
		events.push(event);
		if (event.type === "stage_completed") spent = addUsage(spent, event.result.usage);
		if (event.type === "stage_failed") spent = addUsage(spent, event.usage);
		if (event.type === "run_started" || event.type === "run_finished") flushReport();
		else scheduleReport();
		notify({ type: "journal", runId, event });
	};

	const abort = new AbortController();
	let cancelReason: string | undefined;
	const onExternalAbort = () => cancel("the caller aborted the run");
	options.signal?.addEventListener("abort", onExternalAbort, { once: true });
	const cancel = (reason = "cancelled by the user") => {
		if (abort.signal.aborted) return;
		cancelReason = reason;
		abort.abort();
	};

	const registry = options.modelRegistry as ModelRegistry;
	const services: RunServices = {
		workflow: definition.name,
		runId,
		paths,
		cwd: options.cwd,
		agentDir: options.agentDir ?? getAgentDir(),
		modelRegistry: typeof options.modelRegistry === "function" ? options.modelRegistry : () => registry,
		defaultModel: options.defaultModel,
		stageResources: options.stageResources ?? {},
		retry: options.retry,
		uiContext: options.uiContext,
		budget: definition.budget,
		limiter,
		ids: new StageIds(),
		completed: [] as StageResult[],
		spent: () => spent,
		record,
		activity: (stageId, activity) => notify({ type: "activity", runId, stageId, activity }),
	};

	record({
		type: "run_started",
		at: new Date().toISOString(),
		inputs: (inputs ?? {}) as Record<string, unknown>,
		cwd: options.cwd,
		...(options.workflowFile ? { workflowFile: options.workflowFile } : {}),
	});
	if (options.signal?.aborted) cancel("the caller aborted the run");

	const done = (async (): Promise<RunReport> => {
		let finished: RunFinishedEvent;
		try {
			const ctx = createContext(
				{ services, frontier: new Frontier(), signal: abort.signal },
				(inputs ?? {}) as Record<string, unknown>,
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
			finished = finishedWithError(definition.name, error, cancelReason);
		} finally {
			abort.abort();
			options.signal?.removeEventListener("abort", onExternalAbort);
		}
		record(finished, true);
		journal.close();
		return report();
	})();

	return { runId, paths, report, done, cancel };
}

/** Runs a workflow to its end and returns the final report (status completed, failed, blocked or cancelled). */
export function runWorkflow(
	definition: AnyWorkflowDefinition,
	inputs: unknown,
	options: RunWorkflowOptions,
): Promise<RunReport> {
	return startWorkflow(definition, inputs, options).done;
}

function finishedWithError(workflow: string, error: unknown, cancelReason: string | undefined): RunFinishedEvent {
	const at = new Date().toISOString();
	if (cancelReason !== undefined) return { type: "run_finished", at, status: "cancelled", reason: cancelReason };
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
