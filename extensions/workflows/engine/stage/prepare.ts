// Prepares one ctx.task call before anything runs: checks its options, resolves the model, the output
// and reads paths and the fork source, builds the prompt, and computes the fingerprint of its definition
// and the digests of what it consumes. Problems come back as data (`ok: false`) so the call can be
// journaled as failed without a model call.

import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { budgetProblems, STAGE_BUDGET_KEYS } from "../../authoring/budget-spec.js";
import type { StageResult, TaskOptions, WorktreeOptions } from "../../authoring/types.js";
import type { ResolvedModel } from "../../stages/model-spec.js";
import type { Scope } from "../scope.js";
import { worktreeLocation, worktreeOptions, worktreeProblem } from "../worktrees.js";
import { consumedDigests } from "./consumed.js";
import { stageFingerprint } from "./fingerprint.js";
import { resolveOutputPath, resolveReadPath } from "./paths.js";
import { buildStagePrompt } from "./prompt.js";
import { schemaProblem } from "./structured-result.js";
import { taskOptionNameProblem } from "./task-options.js";

/** One of a stage's models, in the order they are tried: resolved, or to be skipped (no credentials). */
export interface ModelChoice {
	label: string;
	model?: ResolvedModel;
	/** Why it is not tried. */
	skip?: string;
}

export interface PreparedStage {
	/** The stage's own model (the first of `models`). */
	model: ResolvedModel;
	/** Its model, then its fallbacks. */
	models: ModelChoice[];
	reads: string[];
	outputPath?: string;
	/** The completed stage whose transcript this one continues (`context: "fork"`). */
	forkSource?: StageResult;
	/** The Pi session file it continues instead (`forkFromSessionFile`), absolute. */
	forkFile?: string;
	prompt: string;
	fingerprint: string;
	consumed: Record<string, string>;
	/** A stage with a worktree of its own: how to make it, and where it goes. */
	worktree?: { options: WorktreeOptions; root: string; branch: string };
}

export type Prepared = { ok: true; value: PreparedStage } | { ok: false; error: string };

export function prepareStage(
	scope: Scope,
	id: string,
	rawName: unknown,
	options: TaskOptions,
	parents: string[],
): Prepared {
	const { services } = scope;
	const problem = checkTaskOptions(rawName, options);
	if (problem) {
		// An option the code names wrongly is a fault of the workflow's file: say which.
		const file = scope.frame ? scope.frame.file : services.workflowFile;
		const where = file && /^unknown option/.test(problem) ? ` (in ${file})` : "";
		return { ok: false, error: `${problem}${where}` };
	}
	const spec = options.model ?? services.settings.defaultModel;
	if (!spec)
		return { ok: false, error: `model: none given and the run has no default model; set "model" to "provider/id"` };
	const model = services.resolveModel(spec);
	if (!model.ok) return model;
	const models: ModelChoice[] = [{ label: model.value.label, model: model.value }];
	for (const [index, fallback] of (options.fallbackModels ?? []).entries()) {
		const resolved = services.resolveModel(fallback);
		if (resolved.ok) models.push({ label: resolved.value.label, model: resolved.value });
		else if (resolved.missingCredentials) models.push({ label: fallback, skip: resolved.error });
		else return { ok: false, error: `fallbackModels[${index}]: ${resolved.error}` };
	}
	const priceProblem = unknownPrice(models, services.budget.limits.maxCostUsd, options.budget?.maxCostUsd);
	if (priceProblem) return { ok: false, error: priceProblem };
	const own = worktreeOptions(options.worktree);
	const location = own ? worktreeLocation(services.paths, id) : undefined;
	const worktreeRoot = location?.root ?? scope.place?.worktree?.root;
	const roots = {
		cwd: services.settings.cwd,
		paths: services.paths,
		...(worktreeRoot ? { worktree: worktreeRoot } : {}),
	};
	let outputPath: string | undefined;
	if (options.output !== undefined) {
		const resolved = resolveOutputPath(options.output, roots);
		if (!resolved.ok) return resolved;
		outputPath = resolved.path;
	}
	const reads: string[] = [];
	for (const path of options.reads ?? []) {
		const resolved = resolveReadPath(path, roots);
		if (!resolved.ok) return resolved;
		reads.push(resolved.path);
	}
	const context = options.context ?? (options.forkFromSessionFile !== undefined ? "fork" : "fresh");
	let forkSource: StageResult | undefined;
	let forkFile: string | undefined;
	if (options.forkFromSessionFile !== undefined) {
		const file = forkFileProblem(options, roots.cwd);
		if (!file.ok) return file;
		forkFile = file.path;
	} else if (context === "fork") {
		const source = findForkSource(scope, options.forkFrom, parents);
		if (!source.ok) return source;
		forkSource = source.result;
	}
	const prompt = buildStagePrompt({
		workflow: services.workflow,
		stage: id,
		// Checked above: a non-empty string.
		prompt: options.prompt as string,
		previous: options.previous,
		reads,
		outputPath,
	});
	const fingerprint = stageFingerprint({
		prompt,
		model: model.value.label,
		tools: options.tools,
		systemPrompt: options.systemPrompt,
		reads,
		output: outputPath,
		outputMode: options.outputMode ?? "inline",
		context,
		forkFrom: options.forkFrom,
		...(forkFile ? { forkFile } : {}),
		// Absent keys leave the fingerprints of stages without them as they were.
		fallbackModels: options.fallbackModels,
		schema: options.schema,
		worktree: options.worktree,
	});
	const consumed = consumedDigests(services.fold, options.previous, forkSource);
	return {
		ok: true,
		value: {
			model: model.value,
			models,
			reads,
			outputPath,
			forkSource,
			...(forkFile ? { forkFile } : {}),
			prompt,
			fingerprint,
			consumed,
			...(own && location ? { worktree: { options: own, ...location } } : {}),
		},
	};
}

/** A cost limit cannot be kept on a model whose price is unknown (0): refused, never treated as free. */
function unknownPrice(models: ModelChoice[], runLimit?: number, stageLimit?: number): string | undefined {
	if (runLimit === undefined && stageLimit === undefined) return undefined;
	const free = models.find(({ model }) => model && model.model.cost.input === 0 && model.model.cost.output === 0);
	if (!free) return undefined;
	const which = stageLimit !== undefined ? "the stage's budget" : "the run's budget";
	return `model "${free.label}" has no known price (its cost per token is 0), so ${which} maxCostUsd cannot be kept; give the model a price (models.json) or drop the cost limit`;
}

function checkTaskOptions(name: unknown, options: TaskOptions): string | undefined {
	if (typeof name !== "string" || name.trim() === "")
		return `name: expected a non-empty string, got ${JSON.stringify(name)}`;
	if (typeof options !== "object" || options === null) return `options: expected an object, got ${typeof options}`;
	const names = taskOptionNameProblem(options);
	if (names) return names;
	if (typeof options.prompt !== "string" || options.prompt.trim() === "") {
		return `prompt: expected a non-empty string, got ${JSON.stringify(options.prompt)}`;
	}
	if (options.context !== undefined && options.context !== "fresh" && options.context !== "fork") {
		return `context: expected "fresh" or "fork", got ${JSON.stringify(options.context)}`;
	}
	if (options.outputMode !== undefined && options.outputMode !== "inline" && options.outputMode !== "file-only") {
		return `outputMode: expected "inline" or "file-only", got ${JSON.stringify(options.outputMode)}`;
	}
	if (options.outputMode === "file-only" && !options.output)
		return `outputMode "file-only" needs "output" (the file to write)`;
	for (const key of ["tools", "reads", "fallbackModels"] as const) {
		const list = options[key];
		if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== "string"))) {
			return `${key}: expected an array of strings, got ${JSON.stringify(list)}`;
		}
	}
	if (options.schema !== undefined) {
		const problem = schemaProblem(options.schema);
		if (problem) return problem;
	}
	const timeouts = [
		["timeoutMs", options.timeoutMs, 1],
		["idleTimeoutMs", options.idleTimeoutMs, 0],
		["toolTimeoutMs", options.toolTimeoutMs, 1],
	] as const;
	for (const [key, value, least] of timeouts) {
		if (value !== undefined && !(typeof value === "number" && Number.isInteger(value) && value >= least)) {
			const expected =
				least === 0
					? "a whole number of milliseconds, 0 or more (0: off)"
					: "a whole number of milliseconds above 0";
			return `${key}: expected ${expected}, got ${JSON.stringify(value)}`;
		}
	}
	const worktree = worktreeProblem(options.worktree);
	if (worktree) return worktree;
	const budget = budgetProblems(options.budget, "budget", STAGE_BUDGET_KEYS);
	if (budget.length > 0) return budget.join("; ");
	return undefined;
}

/** `forkFromSessionFile`: a Pi session file (relative to the project) that exists, for a stage that forks. */
function forkFileProblem(options: TaskOptions, cwd: string): { ok: true; path: string } | { ok: false; error: string } {
	const given = options.forkFromSessionFile;
	if (typeof given !== "string" || given.trim() === "")
		return {
			ok: false,
			error: `forkFromSessionFile: expected the path of a Pi session file, got ${JSON.stringify(given)}`,
		};
	if (options.context === "fresh")
		return { ok: false, error: `forkFromSessionFile: a fresh stage forks nothing; drop context "fresh" or the file` };
	if (options.forkFrom !== undefined)
		return { ok: false, error: `forkFromSessionFile and forkFrom both name what to fork from; give one of them` };
	const path = resolve(cwd, given);
	if (!existsSync(path) || !statSync(path).isFile())
		return { ok: false, error: `forkFromSessionFile: no session file at ${path}` };
	return { ok: true, path };
}

function findForkSource(
	scope: Scope,
	forkFrom: string | undefined,
	parents: string[],
): { ok: true; result: StageResult } | { ok: false; error: string } {
	const completed = scope.services.completed;
	if (forkFrom) {
		const source = completed.findLast((result) => result.id === forkFrom || result.name === forkFrom);
		if (source) return { ok: true, result: source };
		const known = completed.map((result) => result.id).join(", ") || "none yet";
		return { ok: false, error: `forkFrom: no completed stage named "${forkFrom}" (completed: ${known})` };
	}
	const parentResults = completed.filter((result) => parents.includes(result.id));
	const only = parentResults.length === 1 ? parentResults[0] : undefined;
	if (only) return { ok: true, result: only };
	return {
		ok: false,
		error: `context "fork": expected exactly one completed parent stage to fork from, got ${parentResults.length} (${parents.join(", ") || "none"}); name one with "forkFrom"`,
	};
}
