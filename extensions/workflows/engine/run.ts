// The programmatic runner every surface shares. `startWorkflow` validates inputs, creates the run in the store
// (folders, lock, journal) and drives it; `resumeWorkflow` takes over a run an earlier process left (crashed,
// paused, failed, blocked) and re-executes it, replaying what was recorded. Both return at once with a
// WorkflowRun; `runWorkflow` waits for the final report.

import { BUDGET_KEYS, budgetProblems } from "../authoring/budget-spec.js";
import type { AnyWorkflowDefinition, WorkflowBudget } from "../authoring/types.js";
import { checkInputs } from "../authoring/validate.js";
import type { RunStartedEvent } from "../store/events.js";
import { FileRunStore } from "../store/file-store.js";
import { buildReport, type RunReport } from "../store/report.js";
import { newRunId, type RunPaths } from "../store/run-directory.js";
import { RunFold } from "../store/run-fold.js";
import type { RunStore } from "../store/run-store.js";
import type { PendingPrompt } from "./calls/prompt-board.js";
import { LeaseRelay } from "./lease-relay.js";
import { type KnownModel, modelProblems } from "./model-check.js";
import { driveRun, type RunProgressEvent, type WorkflowRun } from "./run-driver.js";
import { type RunSettingsInput, runSettings } from "./run-settings.js";

export type { RunProgressEvent, WorkflowRun } from "./run-driver.js";
export { DEFAULT_CONCURRENCY } from "./run-settings.js";

export interface RunWorkflowOptions extends RunSettingsInput {
	runId?: string;
	/** Aborting it cancels the run. */
	signal?: AbortSignal;
	/** File the workflow came from, recorded in the journal so a resume can load it again. */
	workflowFile?: string;
	/** The data spec of a dynamic workflow, recorded in the journal so a resume can rebuild it. */
	spec?: unknown;
	/** Where the run's journal, ownership and mailbox live (default: files in the project, FileRunStore). */
	store?: RunStore;
	/** Told when a question starts waiting, to show it (the answer goes to `WorkflowRun.answer`). */
	onPrompt?: (prompt: PendingPrompt) => void;
	/** Progress: every journal event and live stage activity. */
	onEvent?: (event: RunProgressEvent) => void;
	/** Limits for this run only, each replacing the workflow's (a command's --budget); kept for its resumes. */
	budget?: WorkflowBudget;
	/** Model strings known before the run starts (a one-off spec's): checked up front with the default model. */
	models?: readonly KnownModel[];
}

export interface ResumeWorkflowOptions
	extends Omit<RunWorkflowOptions, "runId" | "workflowFile" | "spec" | "concurrency"> {
	runId: string;
	/** Given to the stages that were in flight when the run stopped. */
	message?: string;
}

/** Starts a run and returns at once. Throws, having written nothing, when inputs or options are invalid. */
export function startWorkflow(
	definition: AnyWorkflowDefinition,
	inputs: unknown,
	options: RunWorkflowOptions,
): WorkflowRun {
	if (!definition.name) {
		throw new Error(
			`Workflow without a name: give workflow({ name: ... }) one, or load it from a file (it takes the file's name); nothing was started.`,
		);
	}
	const problems = checkInputs(definition.inputs, inputs ?? {});
	if (problems.length > 0) {
		throw new Error(`Workflow "${definition.name}": invalid inputs:\n- ${problems.join("\n- ")}`);
	}
	checkBudgetOption(`Workflow "${definition.name}"`, options.budget);
	const settings = runSettings({ ...options, ...inputConcurrency(definition, inputs) });
	const costLimit = (options.budget?.maxCostUsd ?? definition.budget?.maxCostUsd) !== undefined;
	const known = [
		...(settings.defaultModel ? [{ spec: settings.defaultModel, where: "the run's default model" }] : []),
		...(options.models ?? []),
	];
	const modelIssues = modelProblems(known, settings.modelRegistry(), costLimit);
	if (modelIssues.length > 0) {
		throw new Error(`Workflow "${definition.name}": models:\n- ${modelIssues.join("\n- ")}\nNothing was started.`);
	}
	const store = options.store ?? new FileRunStore(options.cwd);
	const runId = options.runId ?? newRunId();
	const lease = new LeaseRelay();
	const opened = store.create(runId, { workflow: definition.name, createdAt: new Date().toISOString() }, lease);
	const opening: RunStartedEvent = {
		type: "run_started",
		at: new Date().toISOString(),
		inputs: (inputs ?? {}) as Record<string, unknown>,
		cwd: options.cwd,
		...(options.workflowFile ? { workflowFile: options.workflowFile } : {}),
		...(options.spec !== undefined ? { spec: options.spec } : {}),
		...(settings.defaultModel ? { defaultModel: settings.defaultModel } : {}),
		concurrency: settings.concurrency,
	};
	return driveRun({
		...options,
		definition,
		inputs: opening.inputs,
		store,
		opened,
		lease,
		opening,
		settings,
		...(options.budget ? { budgetOverride: options.budget } : {}),
	});
}

/** A workflow that declares the input `max_concurrency` (as Atomic's do) sets the run's stage limit with it. */
function inputConcurrency(definition: AnyWorkflowDefinition, inputs: unknown): { concurrency?: number } {
	if (!("max_concurrency" in definition.inputs)) return {};
	const value = (inputs as Record<string, unknown> | undefined)?.max_concurrency;
	if (value === undefined) return {};
	if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
		throw new Error(
			`Workflow "${definition.name}": input "max_concurrency" (the run's limit on stages in flight): expected a whole number from 1, got ${JSON.stringify(value)}; nothing was started.`,
		);
	}
	return { concurrency: value };
}

/** Runs a workflow to its end and returns the final report (status completed, failed, blocked or cancelled). */
export function runWorkflow(
	definition: AnyWorkflowDefinition,
	inputs: unknown,
	options: RunWorkflowOptions,
): Promise<RunReport> {
	return startWorkflow(definition, inputs, options).done;
}

/**
 * Takes over a run that is not running (crashed, paused, failed, blocked) and re-executes it: completed
 * calls return their recorded results, interrupted stages continue their transcripts. A completed run
 * is a no-op that reports completion. Throws, changing nothing, when the run cannot be resumed.
 */
export function resumeWorkflow(definition: AnyWorkflowDefinition, options: ResumeWorkflowOptions): WorkflowRun {
	const store = options.store ?? new FileRunStore(options.cwd);
	const label = `Workflow "${definition.name}", run ${options.runId}`;
	const paths = store.paths(options.runId);
	if (!store.has(options.runId)) {
		throw new Error(`${label}: no journal at ${paths.journal}; nothing to resume.`);
	}
	// Checked before the lock is taken, so a run that cannot be resumed is left exactly as it is (its lock too).
	checkBudgetOption(label, options.budget);
	const before = resumePlan(label, definition, RunFold.of(store.read(options.runId)), paths);
	if (before.finished) return before.finished;
	const lease = new LeaseRelay();
	const opened = store.open(options.runId, lease);
	if (!opened.ok) throw new Error(`${label} cannot be resumed: ${opened.error}.`);
	// Decided on the journal as read once the lock is held: no other process can move it on meanwhile.
	let plan: ReturnType<typeof resumePlan>;
	try {
		plan = resumePlan(label, definition, RunFold.of(opened.run.contents), paths);
	} catch (error) {
		opened.run.journal.close();
		opened.run.lease.release();
		throw error;
	}
	if (plan.finished) {
		opened.run.journal.close();
		opened.run.lease.release();
		return plan.finished;
	}
	const started = plan.started;
	const settings = runSettings({
		...options,
		defaultModel: started.defaultModel ?? options.defaultModel,
		concurrency: started.concurrency,
	});
	return driveRun({
		...options,
		definition,
		inputs: started.inputs,
		store,
		opened: opened.run,
		lease,
		opening: {
			type: "run_resumed",
			at: new Date().toISOString(),
			...(options.message ? { message: options.message } : {}),
		},
		settings,
		resumeMessage: options.message,
		...(options.budget ? { budgetOverride: options.budget } : {}),
	});
}

/** What a resume does with a run as its fold has it: refuse (throws), report it finished, or go on. */
function resumePlan(
	label: string,
	definition: AnyWorkflowDefinition,
	fold: RunFold,
	paths: RunPaths,
): { finished?: WorkflowRun; started: RunStartedEvent } {
	const { run } = fold;
	if (run.header.workflow !== definition.name) {
		throw new Error(`${label}: the run belongs to workflow "${run.header.workflow}"; nothing was resumed.`);
	}
	const started = run.started;
	if (!started) throw new Error(`${label}: the journal has no run_started event; nothing to resume.`);
	const status = fold.status();
	// Completed and skipped runs are done for good: a resume reports them as they ended.
	if (status === "completed" || status === "skipped") {
		return { finished: finishedRun(paths, buildReport(fold, paths.runDir)), started };
	}
	// A cancel accepted by a process that died before its stages stopped: the run was cancelled all the same.
	if (status === "cancelled" || (status === "running" && run.stopping?.mode === "cancel")) {
		throw new Error(`${label} was cancelled (${run.reason ?? "no reason given"}); a cancelled run is not resumed.`);
	}
	const problems = checkInputs(definition.inputs, started.inputs);
	if (problems.length > 0) {
		throw new Error(`${label}: its recorded inputs no longer fit the workflow:\n- ${problems.join("\n- ")}`);
	}
	return { started };
}

/** A budget given for one run is checked like a workflow's: a bad one changes nothing. */
function checkBudgetOption(label: string, budget: unknown): void {
	if (budget === undefined) return;
	const problems = budgetProblems(budget, "budget", BUDGET_KEYS);
	if (problems.length > 0)
		throw new Error(`${label}: invalid budget:\n- ${problems.join("\n- ")}; nothing was started.`);
}

/** A run that has nothing left to do: its report, as settled. */
function finishedRun(paths: RunPaths, report: RunReport): WorkflowRun {
	const runId = paths.runId;
	return {
		runId,
		paths,
		report: () => report,
		nodes: () => [],
		warn: () => undefined,
		done: Promise.resolve(report),
		cancel: () => undefined,
		pause: () => undefined,
		steer: async () => {
			throw new Error(`Run ${runId} has ${report.status}; no stage is running.`);
		},
		pending: () => [],
		answer: () => {
			throw new Error(`Run ${runId} is not waiting for an answer (it has ${report.status}); nothing was changed.`);
		},
	};
}
