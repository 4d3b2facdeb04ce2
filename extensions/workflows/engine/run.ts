// The programmatic runner every surface shares. `startWorkflow` validates inputs, creates the run
// directory, journal and lock, and drives a new run; `resumeWorkflow` takes over a run an earlier
// process left (crashed, paused, failed, blocked) and re-executes it, replaying what was recorded.
// Both return at once with a WorkflowRun; `runWorkflow` waits for the final report.

import { existsSync } from "node:fs";
import type { ExtensionUIContext, ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { checkInputs } from "../authoring/validate.js";
import type { RunStartedEvent } from "../store/events.js";
import { FileJournal, readJournalFile } from "../store/journal.js";
import { buildReport, type RunReport } from "../store/report.js";
import { createRunDirectory, listArtifacts, newRunId, runPaths } from "../store/run-directory.js";
import { acquireRunLock } from "../store/run-lock.js";
import type { StageResourceOptions } from "../stages/stage-resources.js";
import type { StageRetrySettings } from "../stages/stage-session.js";
import type { PendingPrompt } from "./prompt-call.js";
import { driveRun, type RunProgressEvent, type WorkflowRun } from "./run-driver.js";

export type { RunProgressEvent, WorkflowRun } from "./run-driver.js";

export const DEFAULT_CONCURRENCY = 4;

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
	/** File the workflow came from, recorded in the journal so a resume can load it again. */
	workflowFile?: string;
	/** The data spec of a dynamic workflow, recorded in the journal so a resume can rebuild it. */
	spec?: unknown;
	stageResources?: StageResourceOptions;
	/** Pi's retries of transient provider errors in stages (default: on, Pi's defaults). */
	retry?: StageRetrySettings;
	/** Where dialogs raised inside stages go. */
	uiContext?: ExtensionUIContext;
	/** "wait" (default): a question (ctx.ui.*) waits for an answer; "stop": the run stops there with status
	 * awaiting_input (headless use), and answering it later continues the run. */
	inputMode?: "wait" | "stop";
	/** Told when a question starts waiting, to show it (the answer goes to `WorkflowRun.answer`). */
	onPrompt?: (prompt: PendingPrompt) => void;
	/** Progress: every journal event and live stage activity. */
	onEvent?: (event: RunProgressEvent) => void;
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
	const problems = checkInputs(definition.inputs, inputs ?? {});
	if (problems.length > 0) {
		throw new Error(`Workflow "${definition.name}": invalid inputs:\n- ${problems.join("\n- ")}`);
	}
	const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
	const runId = options.runId ?? newRunId();
	const paths = createRunDirectory(options.cwd, runId);
	const lock = acquireRunLock(paths.runDir);
	if (!lock.ok) throw new Error(`Run ${runId}: ${lock.error}`);
	const journal = FileJournal.create(paths.journal, {
		runId,
		workflow: definition.name,
		createdAt: new Date().toISOString(),
	});
	const opening: RunStartedEvent = {
		type: "run_started",
		at: new Date().toISOString(),
		inputs: (inputs ?? {}) as Record<string, unknown>,
		cwd: options.cwd,
		...(options.workflowFile ? { workflowFile: options.workflowFile } : {}),
		...(options.spec !== undefined ? { spec: options.spec } : {}),
		...(options.defaultModel ? { defaultModel: options.defaultModel } : {}),
		concurrency,
	};
	return driveRun({
		...options,
		definition,
		inputs: opening.inputs,
		paths,
		journal,
		lock: lock.lock,
		previous: [],
		opening,
		concurrency,
	});
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
	const paths = runPaths(options.cwd, options.runId);
	const label = `Workflow "${definition.name}", run ${options.runId}`;
	if (!existsSync(paths.journal)) throw new Error(`${label}: no journal at ${paths.journal}; nothing to resume.`);
	const contents = readJournalFile(paths.journal);
	if (contents.header.workflow !== definition.name) {
		throw new Error(`${label}: the run belongs to workflow "${contents.header.workflow}"; nothing was resumed.`);
	}
	const current = buildReport(contents, paths.runDir, listArtifacts(paths));
	if (current.status === "completed") return finishedRun(paths.runId, paths, current);
	if (current.status === "cancelled") {
		throw new Error(
			`${label} was cancelled (${current.reason ?? "no reason given"}); a cancelled run is not resumed.`,
		);
	}
	const started = contents.events.find((event): event is RunStartedEvent => event.type === "run_started");
	if (!started) throw new Error(`${label}: the journal has no run_started event; nothing to resume.`);
	const problems = checkInputs(definition.inputs, started.inputs);
	if (problems.length > 0) {
		throw new Error(`${label}: its recorded inputs no longer fit the workflow:\n- ${problems.join("\n- ")}`);
	}
	const lock = acquireRunLock(paths.runDir);
	if (!lock.ok) throw new Error(`${label} cannot be resumed: ${lock.error}.`);
	let journal: FileJournal;
	try {
		journal = FileJournal.open(paths.journal);
	} catch (error) {
		lock.lock.release();
		throw error;
	}
	return driveRun({
		...options,
		definition,
		inputs: started.inputs,
		paths,
		journal,
		lock: lock.lock,
		previous: contents.events,
		opening: {
			type: "run_resumed",
			at: new Date().toISOString(),
			...(options.message ? { message: options.message } : {}),
		},
		defaultModel: started.defaultModel ?? options.defaultModel,
		concurrency: started.concurrency ?? DEFAULT_CONCURRENCY,
		resumeMessage: options.message,
	});
}

/** A run that has nothing left to do: its report, as settled. */
function finishedRun(runId: string, paths: WorkflowRun["paths"], report: RunReport): WorkflowRun {
	return {
		runId,
		paths,
		report: () => report,
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
