// The ctx a workflow's `run` receives: task, stage, tool, ui, chain, parallel and workflow on top of the call protocol.
// Each call works in a scope (graph frontier + abort signal + call identities); parallel branches and child
// workflows get their own.

import { setMaxListeners } from "node:events";
import { ParallelError } from "../authoring/parallel-error.js";
import { RunStop } from "../authoring/run-stop.js";
import { StageError } from "../authoring/stage-error.js";
import type {
	AnyWorkflowDefinition,
	ChainOptions,
	ChildWorkflowOptions,
	ParallelOptions,
	ParallelStep,
	StageResult,
	TaskOptions,
	TaskStep,
	ToolCallContext,
	ToolCallOptions,
	WorkflowContext,
} from "../authoring/types.js";
import { WorkflowCancelled } from "../authoring/workflow-cancelled.js";
import type { CallScope } from "./call-identity.js";
import { runApply } from "./calls/apply-call.js";
import { runPrompt } from "./calls/prompt-call.js";
import { openStage } from "./calls/stage-call.js";
import { runTask } from "./calls/task-call.js";
import { runToolCall } from "./calls/tool-call.js";
import { runChildWorkflow } from "./calls/workflow-call.js";
import { Frontier } from "./graph.js";
import { createLimiter } from "./limiter.js";
import { exitStop, isRunStop, WorkflowUsageError } from "./run-stops.js";
import type { Scope } from "./scope.js";
import { stopScope } from "./scope-stop.js";

export function createContext<I>(scope: Scope, inputs: I): WorkflowContext<I> {
	const { services } = scope;
	const ctx: WorkflowContext<I> = {
		inputs,
		runId: services.runId,
		cwd: scope.place?.cwd ?? services.settings.cwd,
		runDir: services.paths.runDir,
		task: ((name: string, options: TaskOptions) => runTask(scope, name, options)) as WorkflowContext<I>["task"],
		tool: ((
			name: string,
			args: unknown,
			fn: (args: never, call: ToolCallContext) => unknown,
			options?: ToolCallOptions,
		) => runToolCall(scope, name, args, fn, options)) as WorkflowContext<I>["tool"],
		ui: {
			input: (message, options) =>
				runPrompt(scope, {
					kind: "input",
					message,
					...(options?.placeholder ? { placeholder: options.placeholder } : {}),
				}) as Promise<string>,
			confirm: (message) => runPrompt(scope, { kind: "confirm", message }) as Promise<boolean>,
			select: (message, options) =>
				runPrompt(scope, {
					kind: "select",
					message,
					// Checked at the call (a non-empty list of strings); a bad value must reach that check as is.
					options: (Array.isArray(options) ? [...options] : options) as string[],
				}) as Promise<(typeof options)[number]>,
			editor: (message, initial) =>
				runPrompt(scope, {
					kind: "editor",
					message,
					...(initial !== undefined ? { initial } : {}),
				}) as Promise<string>,
		},
		cancel: (reason = "cancelled by the workflow") => {
			const stop = new WorkflowCancelled(reason);
			// In a child workflow it ends the child; the run's own cancel ends as the workflow's run throws.
			if (scope.frame) scope.frame.stop(stop);
			throw stop;
		},
		exit: (options) => {
			const frame = scope.frame;
			const stop = exitStop(frame?.name ?? services.workflow, frame?.outputs ?? services.outputs, options);
			// The run (or the child) stops now, as a budget would: stages running in other branches are stopped too.
			if (stop instanceof RunStop) stopScope(scope, stop);
			throw stop;
		},
		progress: (signature, options) => {
			try {
				services.progress.observe(scope.calls.path, signature, options?.limit);
			} catch (error) {
				if (error instanceof RunStop) stopScope(scope, error);
				throw error;
			}
		},
		stage: (name, options) => openStage(scope, name, options ?? {}),
		apply: (source, options) => runApply(scope, source, options),
		workflow: ((definition: AnyWorkflowDefinition, options?: ChildWorkflowOptions<unknown>) =>
			runChildWorkflow(scope, definition, options)) as WorkflowContext<I>["workflow"],
		chain: (steps, options) => runChain(ctx, services.workflow, steps, options),
		parallel: ((steps: readonly ParallelStep<I>[], options?: ParallelOptions) =>
			runParallel(scope, inputs, steps, options)) as WorkflowContext<I>["parallel"],
	};
	return ctx;
}

async function runChain<I>(
	ctx: WorkflowContext<I>,
	workflow: string,
	steps: readonly TaskStep[],
	options: ChainOptions = {},
): Promise<StageResult[]> {
	if (!Array.isArray(steps))
		throw new WorkflowUsageError(workflow, `chain expected an array of steps, got ${typeof steps}`);
	const results: StageResult[] = [];
	for (const step of steps) {
		const previous = results.at(-1);
		let prompt = String(step.prompt ?? step.task ?? "");
		if (prompt.includes("{task}")) {
			if (options.task === undefined) {
				throw new StageError(workflow, step.name, `prompt uses {task} but the chain was given no "task" option`);
			}
			prompt = prompt.replaceAll("{task}", options.task);
		}
		const usesPrevious = prompt.includes("{previous}");
		if (usesPrevious) prompt = prompt.replaceAll("{previous}", previous?.text ?? "");
		// Without a {previous} placeholder the prior step still reaches this one as a handoff.
		const handoff = !usesPrevious && previous && step.previous === undefined ? previous : step.previous;
		// `task` is the prompt's other name, read above; a step giving both keeps both, for the stage to refuse.
		const { name, task, ...taskOptions } = step;
		const both = step.prompt !== undefined && task !== undefined ? { task } : {};
		results.push(await ctx.task(name, { ...taskOptions, ...both, prompt, previous: handoff }));
	}
	return results;
}

const PARALLEL_OPTION_KEYS = ["concurrency", "failFast", "group"];

async function runParallel<I>(
	scope: Scope,
	inputs: I,
	steps: readonly ParallelStep<I>[],
	options: ParallelOptions = {},
): Promise<unknown[]> {
	const workflow = scope.services.workflow;
	if (!Array.isArray(steps))
		throw new WorkflowUsageError(workflow, `parallel expected an array of steps, got ${typeof steps}`);
	const concurrency = options.concurrency ?? Math.max(1, steps.length);
	if (!Number.isInteger(concurrency) || concurrency < 1) {
		throw new WorkflowUsageError(
			workflow,
			`parallel expected concurrency to be an integer from 1 and up, got ${JSON.stringify(options.concurrency)}`,
		);
	}
	const unknown = Object.keys(options).filter((key) => !PARALLEL_OPTION_KEYS.includes(key));
	if (unknown.length > 0) {
		throw new WorkflowUsageError(
			workflow,
			`parallel: unknown option ${unknown.map((key) => `"${key}"`).join(", ")}: pi-workflows has no such option (expected one of: ${PARALLEL_OPTION_KEYS.join(", ")})`,
		);
	}
	if (options.group !== undefined && (typeof options.group !== "string" || options.group.trim() === "")) {
		throw new WorkflowUsageError(
			workflow,
			`parallel expected group to be a non-empty name, got ${JSON.stringify(options.group)}`,
		);
	}
	// No branches: nothing consumes the frontier, so the next call keeps its parents.
	if (steps.length === 0) return [];
	const failFast = options.failFast ?? true;
	const group = new AbortController();
	const signal = AbortSignal.any([scope.signal, group.signal]);
	setMaxListeners(0, signal);
	const snapshot = scope.frontier.take();
	const frontiers = steps.map(() => new Frontier(snapshot));
	const callScopes = scope.calls.branches(steps.length);
	const limit = createLimiter(concurrency);

	const settled = await Promise.allSettled(
		steps.map((step, index) =>
			limit(async () => {
				const branch: Scope = {
					...scope,
					frontier: frontiers[index] as Frontier,
					signal,
					calls: callScopes[index] as CallScope,
					...(options.group ? { group: options.group } : {}),
				};
				if (signal.aborted)
					throw new StageError(workflow, branchLabel(step, index), "not started: a sibling branch failed", true);
				try {
					if (typeof step === "function") return await step(createContext(branch, inputs));
					const { name, ...taskOptions } = step;
					return await runTask(branch, name, taskOptions);
				} catch (error) {
					if (failFast || isRunStop(error)) group.abort();
					throw error;
				}
			}),
		),
	);
	for (const frontier of frontiers) scope.frontier.settle(...frontier.take());

	const failures = settled.flatMap((outcome) => (outcome.status === "rejected" ? [toError(outcome.reason)] : []));
	if (failures.length === 0)
		return settled.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : undefined));
	// A cancel or a budget stop inside a branch stops the run, in both fail-fast modes: it is not a branch failure.
	const runStop = failures.find(isRunStop);
	if (runStop) throw runStop;
	if (failFast) {
		// Report the failure that caused the stop, not the siblings it stopped.
		throw failures.find((error) => !(error instanceof StageError && error.stopped)) ?? failures[0];
	}
	const results = settled.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : undefined));
	throw new ParallelError(workflow, results, failures);
}

function branchLabel<I>(step: ParallelStep<I>, index: number): string {
	return typeof step === "function" ? `branch ${index + 1}` : step.name;
}

function toError(reason: unknown): Error {
	return reason instanceof Error ? reason : new Error(String(reason));
}
