// ctx.apply as a node of the call protocol: brings a worktree stage's change (its `.patch`) into the user's
// checkout. It checks the patch applies cleanly first (a conflicting one is refused with the files listed, and
// nothing is applied), shows the change through the human gate when `confirm` is set, then applies all of it or
// nothing. It is a recorded call with effects outside the run: a resume never applies twice (a crash during the
// apply is settled by checking whether the patch is in the tree already), and an answered gate is never asked again.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { StageError } from "../../authoring/stage-error.js";
import type { ApplyOptions, ApplyResult, StageResult } from "../../authoring/types.js";
import { applyPatch, checkPatch, isPatchApplied, summarizePatch } from "../../sandbox/patch.js";
import { CallScope } from "../call-identity.js";
import { Frontier } from "../graph.js";
import type { Scope } from "../scope.js";
import { runPrompt } from "./prompt-call.js";
import { callNode, type NodeCall, type Prepared } from "./protocol.js";

interface ApplyReady extends Prepared {
	patchFile: string;
	files: Array<{ path: string; insertions: number; deletions: number }>;
	insertions: number;
	deletions: number;
}

export async function runApply(
	scope: Scope,
	source: StageResult | string,
	options: ApplyOptions = {},
): Promise<ApplyResult> {
	const name = typeof source === "object" && source !== null && typeof source.id === "string" ? source.id : "patch";
	return (await callNode(scope, applyCall(scope, name, source, options ?? {}))) as ApplyResult;
}

function applyCall(
	scope: Scope,
	name: string,
	source: StageResult | string,
	options: ApplyOptions,
): NodeCall<"apply", ApplyReady, { interrupted: boolean }> {
	const { services } = scope;
	// The node's error is named after the workflow and the node already; this says what the sandbox worked on.
	const label = `the patch of "${name}"`;
	const target = services.settings.cwd;
	return {
		kind: "apply",
		name,
		// `apply-impl`: the id says what it applies, and never reads as a second run of the stage.
		idName: `apply-${name}`,
		sideEffects: true,
		prepare: () => {
			const patchFile = patchOf(source);
			const empty = { patch: typeof patchFile === "string" ? patchFile : "", files: 0, insertions: 0, deletions: 0 };
			if (typeof patchFile !== "string") return { ok: false, error: patchFile.error, start: empty };
			if (!existsSync(patchFile)) {
				return { ok: false, error: `the patch ${patchFile} does not exist; nothing was applied`, start: empty };
			}
			const text = readFileSync(patchFile, "utf8");
			const summary = summarizePatch(text);
			const fingerprint = createHash("sha256")
				.update(text)
				.update(`\0${options.confirm !== false}`)
				.digest("hex");
			return {
				ok: true,
				value: { fingerprint: fingerprint.slice(0, 16), patchFile, ...summary },
			};
		},
		plan: (node, _ready, changed) => {
			const recorded = node.recorded;
			if (recorded && !changed && recorded.status === "completed" && recorded.result !== undefined) {
				return { type: "replay", result: recorded.result };
			}
			// Started and never finished: the process died during the apply, or before it; the tree tells which.
			return {
				type: "run",
				...(changed ? { rerun: changed } : {}),
				detail: { interrupted: recorded?.status === "running" || recorded?.status === "interrupted" },
			};
		},
		start: (_node, ready) => ({
			patch: ready.patchFile,
			files: ready.files.length,
			insertions: ready.insertions,
			deletions: ready.deletions,
		}),
		run: async (node, ready, detail) => {
			const startedAt = Date.now();
			const done = (applied: boolean, extra: Partial<ApplyResult> = {}) => ({
				status: "completed" as const,
				result: {
					applied,
					patchFile: ready.patchFile,
					files: ready.files.map((file) => file.path),
					insertions: ready.insertions,
					deletions: ready.deletions,
					...extra,
				} satisfies ApplyResult,
				durationMs: Date.now() - startedAt,
			});
			if (services.settings.dryRun) return done(false, { reason: "dry run: nothing is applied" });
			if (ready.files.length === 0) return done(false, { reason: "the change is empty" });
			if (detail.interrupted && (await isPatchApplied(target, ready.patchFile))) {
				return done(true, { reason: "it was applied before the run stopped" });
			}
			const checked = await checkPatch(target, ready.patchFile, label);
			if (!checked.ok)
				return { status: "failed" as const, error: checked.error, durationMs: Date.now() - startedAt };
			if (options.confirm !== false) {
				// The gate lives under the apply's identity, so a resume never asks it again.
				const gate: Scope = {
					...scope,
					calls: CallScope.within(node.key),
					frontier: new Frontier(node.parents),
					within: node.id,
				};
				const yes = await runPrompt(gate, { kind: "confirm", message: gateMessage(name, ready, target) });
				if (yes !== true) return done(false, { reason: "declined at the gate" });
				// The tree may have changed while the question waited.
				const again = await checkPatch(target, ready.patchFile, label);
				if (!again.ok) return { status: "failed" as const, error: again.error, durationMs: Date.now() - startedAt };
			}
			const applied = await applyPatch(target, ready.patchFile, label);
			if (!applied.ok)
				return { status: "failed" as const, error: applied.error, durationMs: Date.now() - startedAt };
			return done(true);
		},
		deliver: (node, result, outcome) => {
			if (outcome && outcome.status !== "completed") {
				throw new StageError(services.workflow, node.id, outcome.error ?? "failed", outcome.status !== "failed");
			}
			return result;
		},
	};
}

/** The patch a source names: a worktree stage's result (its change), or a path. */
function patchOf(source: StageResult | string): string | { error: string } {
	if (typeof source === "string" && source.trim() !== "") return source;
	if (typeof source === "object" && source !== null) {
		if (source.change?.patchFile) return source.change.patchFile;
		return {
			error: `expected a result of a stage that ran in a worktree (it has "change"), got the result of "${source.id}", which has none; nothing was applied`,
		};
	}
	return { error: `expected a stage result or a patch file, got ${JSON.stringify(source)}; nothing was applied` };
}

function gateMessage(name: string, ready: ApplyReady, target: string): string {
	const listed = ready.files.slice(0, 20).map((file) => `  ${file.path} (+${file.insertions} -${file.deletions})`);
	const more = ready.files.length > 20 ? [`  ... and ${ready.files.length - 20} more`] : [];
	return [
		`Apply the change of "${name}" to ${target}? ${ready.files.length} file${ready.files.length === 1 ? "" : "s"}, +${ready.insertions} -${ready.deletions}:`,
		...listed,
		...more,
		`(patch: ${ready.patchFile})`,
	].join("\n");
}
