// The testing kit for workflow authors: `import { testWorkflow, scripted } from "pi-workflows/testing"`. A workflow
// runs in process, for real (Pi sessions, files in a temp project, the journal), against a scripted model: answers
// by stage name, by prompt, or in order; text, tool calls, provider errors and structured submissions. Questions
// get scripted answers. The result is the run's report and the model calls of each stage, for ordinary vitest or
// node:test assertions, with no API key and no network, on either Pi line.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnyWorkflowDefinition, WorkflowBudget } from "../authoring/types.js";
import type { PendingPrompt } from "../engine/calls/prompt-board.js";
import { startWorkflow } from "../engine/run.js";
import type { WorkflowRun } from "../engine/run-driver.js";
import type { RunReport } from "../store/report.js";
import { createInMemoryModelRegistry } from "./in-memory-models.js";
import { createScriptedProvider, type Script, type ScriptedReply, type ScriptedRequest } from "./scripted-provider.js";

/** One answer of the scripted model. A list answers the calls of its stage (or prompt) one after another. */
export type Answer = ScriptedReply | ((request: ScriptedRequest) => ScriptedReply | Promise<ScriptedReply>);

/** A scripted model: how it picks each answer. Make one with `scripted.*`. */
export interface ScriptedModel {
	/** The answer for a request, or a problem (the script has none for it). */
	answer(request: ScriptedRequest): Promise<ScriptedReply>;
}

/** Answers a question of the run: by prompt id (`confirm`, `input-2`, ...), or a function of the question. */
export type GateAnswers = Record<string, unknown> | ((prompt: PendingPrompt) => unknown);

export interface TestWorkflowOptions {
	/** The workflow's inputs. */
	inputs?: Record<string, unknown>;
	/** The scripted model every stage talks to (`scripted.byStage`, `scripted.byPrompt`, `scripted.inOrder`). */
	model: ScriptedModel;
	/** Answers for the run's questions (ctx.ui.*); a question with none fails the test, naming it. */
	answers?: GateAnswers;
	/** Model ids of the scripted provider (default fast, smart); stages name them as `scripted/<id>`. */
	models?: string[];
	/** The model stages use when they name none (default `scripted/<first of models>`). */
	defaultModel?: string;
	/** A project folder to run in (default: a fresh temp folder, removed with `cleanup()`). */
	cwd?: string;
	budget?: WorkflowBudget;
}

export interface WorkflowTestResult {
	report: RunReport;
	/** The project folder the run worked in (its run folder is `.pi/workflows/runs/<runId>`). */
	cwd: string;
	runDir: string;
	/** Every model request, in order. */
	allCalls: ScriptedRequest[];
	/** The model requests of one stage, in order. */
	calls(stage: string): ScriptedRequest[];
	/** Removes the kit's scratch folder (the temp project with it, when the kit made it; never a given `cwd`). */
	cleanup(): void;
}

/** Runs a workflow to its end against a scripted model; rejects when the script had no answer for a call. */
export async function testWorkflow(
	definition: AnyWorkflowDefinition,
	options: TestWorkflowOptions,
): Promise<WorkflowTestResult> {
	// A scratch folder holds Pi's agent dir (nothing of the user's is read or written) and, unless one is given,
	// the project.
	const scratch = mkdtempSync(join(tmpdir(), "pi-workflows-kit-"));
	const cwd = options.cwd ?? join(scratch, "project");
	mkdirSync(cwd, { recursive: true });
	const models = options.models ?? ["fast", "smart"];
	const problems: string[] = [];
	const script: Script = async (request) => {
		try {
			return await options.model.answer(request);
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			problems.push(message);
			// The stage fails as on a refused request; the test then fails with this message.
			return { error: `400 invalid request: ${message}` };
		}
	};
	const provider = createScriptedProvider({ models, script });
	const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });
	const gateProblems: string[] = [];
	let run: WorkflowRun | undefined;
	const start = () =>
		startWorkflow(definition, options.inputs ?? {}, {
			cwd,
			agentDir: join(scratch, "agent"),
			modelRegistry,
			defaultModel: options.defaultModel ?? `scripted/${models[0]}`,
			...(options.budget ? { budget: options.budget } : {}),
			onPrompt: (prompt) =>
				queueMicrotask(() => {
					const answer = gateAnswer(options.answers, prompt);
					if (!answer.ok) {
						gateProblems.push(answer.error);
						run?.cancel(answer.error);
						return;
					}
					try {
						run?.answer(prompt.id, answer.value);
					} catch (error) {
						gateProblems.push(
							`question "${prompt.id}": ${error instanceof Error ? error.message : String(error)}`,
						);
						run?.cancel(`question "${prompt.id}" got an answer it refused`);
					}
				}),
		});
	try {
		run = start();
	} catch (error) {
		// Refused before it started (bad inputs, unknown models): nothing of it to keep.
		rmSync(scratch, { recursive: true, force: true });
		throw error;
	}
	const report = await run.done;
	// A project the caller gave is theirs: only the scratch folder goes.
	const cleanup = () => rmSync(scratch, { recursive: true, force: true });
	const wrong = [...problems, ...gateProblems];
	if (wrong.length > 0) {
		cleanup();
		throw new Error(`testWorkflow "${definition.name}": ${wrong.join("; ")}`);
	}
	return {
		report,
		cwd,
		runDir: join(cwd, ".pi", "workflows", "runs", report.runId),
		allCalls: provider.calls,
		calls: (stage) => provider.calls.filter((call) => call.stage === stage),
		cleanup,
	};
}

function gateAnswer(
	answers: GateAnswers | undefined,
	prompt: PendingPrompt,
): { ok: true; value: unknown } | { ok: false; error: string } {
	const value = typeof answers === "function" ? answers(prompt) : answers?.[prompt.id];
	if (value === undefined) {
		return {
			ok: false,
			error: `question "${prompt.id}" (${prompt.kind}: ${prompt.message}) has no scripted answer; give answers.${prompt.id.replace(/-/g, "_")} or answers["${prompt.id}"]`,
		};
	}
	return { ok: true, value };
}

/** After a `submit_result` call the stage is called back with its result: the kit answers that itself. */
const AFTER_SUBMIT = "Submitted.";

/** Plays a list of answers one per call; a function answers from the request. */
async function play(answer: Answer, request: ScriptedRequest): Promise<ScriptedReply> {
	return typeof answer === "function" ? answer(request) : answer;
}

function lastWasSubmit(request: ScriptedRequest): boolean {
	return request.afterToolResult && /submit_result\(/.test(request.transcript.at(-2) ?? "");
}

/** Answers consumed in order, one per call, from a list per key; a single answer repeats for every call. */
class Queue {
	private readonly used = new Map<string, number>();

	constructor(private readonly label: string) {}

	next(key: string, answers: Answer | readonly Answer[], request: ScriptedRequest): Promise<ScriptedReply> {
		if (!Array.isArray(answers)) return play(answers as Answer, request);
		const index = this.used.get(key) ?? 0;
		this.used.set(key, index + 1);
		const answer = answers[index];
		if (answer === undefined) {
			throw new Error(
				`scripted model: no answer left for ${this.label} "${key}" (call ${index + 1}; the script gives ${answers.length})`,
			);
		}
		return play(answer, request);
	}
}

export const scripted = {
	/** Answers by stage id (`plan`, `review-2`, a multi-turn stage's prompt `impl/2`); a list answers its calls in
	 * turn. `fallback` answers stages the map does not name (default: none, so the test fails naming the stage). */
	byStage(answers: Record<string, Answer | readonly Answer[]>, fallback?: Answer): ScriptedModel {
		const queue = new Queue("stage");
		return {
			answer: async (request) => {
				if (lastWasSubmit(request)) return AFTER_SUBMIT;
				const stage = request.stage ?? "";
				const own = answers[stage];
				if (own !== undefined) return queue.next(stage, own, request);
				if (fallback !== undefined) return play(fallback, request);
				const known = Object.keys(answers).join(", ") || "none";
				throw new Error(
					`scripted model: no answer for stage "${stage}" (call ${request.stageCall}; the script answers ${known})`,
				);
			},
		};
	},

	/** Answers by what the prompt says: the first rule whose text or pattern is found in the stage's prompt. */
	byPrompt(rules: ReadonlyArray<readonly [string | RegExp, Answer | readonly Answer[]]>): ScriptedModel {
		const queue = new Queue("prompt rule");
		return {
			answer: async (request) => {
				if (lastWasSubmit(request)) return AFTER_SUBMIT;
				const prompt = request.transcript.find((line) => line.startsWith("user: ")) ?? request.lastMessage;
				const rule = rules.find(([match]) =>
					typeof match === "string" ? prompt.includes(match) : match.test(prompt),
				);
				if (rule) return queue.next(String(rule[0]), rule[1], request);
				throw new Error(
					`scripted model: no rule matches the prompt of stage "${request.stage ?? "?"}" (call ${request.stageCall}): ${prompt.slice(0, 120)}`,
				);
			},
		};
	},

	/** Answers every call in order, whatever the stage. */
	inOrder(answers: readonly Answer[]): ScriptedModel {
		let index = 0;
		return {
			answer: async (request) => {
				if (lastWasSubmit(request)) return AFTER_SUBMIT;
				const answer = answers[index++];
				if (answer === undefined) {
					throw new Error(
						`scripted model: no answer left for call ${index} (stage "${request.stage ?? "?"}", call ${request.stageCall} of it; the script gives ${answers.length})`,
					);
				}
				return play(answer, request);
			},
		};
	},

	/** A structured submission (for a stage with `schema`): the kit answers the call-back that follows. */
	submit(result: Record<string, unknown>): ScriptedReply {
		return { toolCalls: [{ name: "submit_result", arguments: result }] };
	},

	/** A tool call (`read`, `bash`, `write`, ...); give the answer after it as the stage's next answer. */
	toolCall(name: string, args: Record<string, unknown>): ScriptedReply {
		return { toolCalls: [{ name, arguments: args }] };
	},

	/** A provider error: `scripted.error("429 rate limited")`, `scripted.error("401 unauthorized")`. */
	error(message: string): ScriptedReply {
		return { error: message };
	},
};
