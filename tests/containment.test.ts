// The containment of a stage's file tools: the pure checks of write paths and bash commands, then a real Pi
// stage session whose scripted model tries to write outside its roots with write, edit and bash.

import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	realpathSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bashProblem, type WriteRoots, writeProblem } from "../extensions/workflows/stages/containment.js";
import { resolveModelSpec } from "../extensions/workflows/stages/model-spec.js";
import { runStageSession, type StageActivity } from "../extensions/workflows/stages/stage-session.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider, type ScriptedReply } from "../extensions/workflows/testing/scripted-provider.js";

/** A temp folder holding the stage's tree and artifacts (its roots) and a folder outside both. */
interface Layout {
	base: string;
	tree: string;
	artifacts: string;
	elsewhere: string;
	roots: WriteRoots;
}

function makeLayout(): Layout {
	const base = realpathSync(mkdtempSync(join(tmpdir(), "pi-workflows-containment-")));
	const tree = join(base, "tree");
	const artifacts = join(base, "artifacts");
	const elsewhere = join(base, "elsewhere");
	for (const dir of [tree, artifacts, elsewhere, join(tree, "sub")]) mkdirSync(dir, { recursive: true });
	// Links inside the tree that lead out of it: a folder, and a dangling one to a file that does not exist yet.
	symlinkSync(elsewhere, join(tree, "escape"));
	symlinkSync(join(elsewhere, "new.txt"), join(tree, "dangling"));
	return { base, tree, artifacts, elsewhere, roots: { roots: [tree, artifacts], label: "impl" } };
}

describe("writeProblem", () => {
	let layout: Layout;
	beforeEach(() => {
		layout = makeLayout();
	});
	afterEach(() => rmSync(layout.base, { recursive: true, force: true }));

	it("allows paths inside a root, folders that do not exist yet included", () => {
		expect(writeProblem("notes.txt", layout.tree, layout.roots)).toBeUndefined();
		expect(writeProblem("new/deep/file.ts", layout.tree, layout.roots)).toBeUndefined();
		expect(writeProblem(join(layout.artifacts, "report.md"), layout.tree, layout.roots)).toBeUndefined();
		expect(writeProblem("sub/../still-inside.txt", layout.tree, layout.roots)).toBeUndefined();
		expect(writeProblem("/dev/null", layout.tree, layout.roots)).toBeUndefined();
	});

	it("refuses a .. escape, saying the path, where it resolves and where the stage may write", () => {
		expect(writeProblem("../outside.txt", layout.tree, layout.roots)).toBe(
			`refused: writing "../outside.txt" (resolves to ${join(layout.base, "outside.txt")}), outside the places ` +
				`stage "impl" may write: ${layout.tree}, ${layout.artifacts}`,
		);
	});

	it("refuses an absolute path outside the roots", () => {
		expect(writeProblem(join(layout.elsewhere, "x.txt"), layout.tree, layout.roots)).toContain("refused:");
	});

	it("refuses a path through a linked folder inside the root that points outside", () => {
		const problem = writeProblem("escape/x.txt", layout.tree, layout.roots);
		expect(problem).toContain(`resolves to ${join(layout.elsewhere, "x.txt")}`);
	});

	it("refuses a dangling link that points outside", () => {
		const problem = writeProblem("dangling", layout.tree, layout.roots);
		expect(problem).toContain(`resolves to ${join(layout.elsewhere, "new.txt")}`);
	});
});

describe("bashProblem", () => {
	let layout: Layout;
	beforeEach(() => {
		layout = makeLayout();
	});
	afterEach(() => rmSync(layout.base, { recursive: true, force: true }));

	const check = (command: string) => bashProblem(command, layout.tree, layout.roots);

	it.each([
		["a redirection inside", "echo hi > out.txt"],
		["appending inside a new folder", "mkdir -p a/b && echo hi >> a/b/out.txt"],
		["reading anywhere", "cat ../secret.txt | grep x && ls / > listing.txt"],
		["fd duplications and devices", "make 2>&1 | tee build.log; echo x >&2; echo y 1>&2; cmd > /dev/null 2>&1"],
		["&> to /dev/null, writes to /dev/stdout and /dev/stderr", "cmd &>/dev/null; echo a >/dev/stdout >/dev/stderr"],
		["copying from outside into the tree", "cp ../src.txt here.txt && cp -r ../lib vendor/"],
		["cd into a new folder made just before", "mkdir -p build && cd build && touch out.o"],
		["cd into the other root", `cd ${"../artifacts"} && echo done > note.txt`],
		["a cd in a subshell that does not leak", "(cd .. && ls) ; touch f.txt"],
		["sed without -i, output redirected inside", "sed 's/a/b/' ../x.txt > x.txt; sed -n p ../y"],
		["a comparison inside [[ ]]", '[[ "$a" > "$b" ]] && echo bigger'],
		[
			"a here-document's body, which is text",
			"cat > notes.md <<EOF\nline > ../not-a-redirect\nEOF\necho ok > after.txt",
		],
		["a quoted here-document's $(...), which is text", "cat > notes.md <<'EOF'\n$(touch ../f)\nEOF"],
		["quoted operators, which are text", `echo "a > ../b; rm -rf .." 'c >> ../d'`],
		["removing a link that points outside (the link goes, not its target)", "rm escape dangling"],
		["a variable that is only read", 'echo "$HOME" > home.txt; ls $DIR'],
	])("allows %s", (_name, command) => {
		expect(check(command)).toBeUndefined();
	});

	it("refuses a redirection out of the root, saying what it would write and where the stage may write", () => {
		expect(check("echo hi > ../outside.txt")).toBe(
			`refused: bash would write "../outside.txt" (resolves to ${join(layout.base, "outside.txt")}), outside ` +
				`the places stage "impl" may write: ${layout.tree}, ${layout.artifacts}`,
		);
	});

	it.each([
		[
			"every redirection form",
			["echo a >> ../o", "echo a >| ../o", "cmd &> ../o", "cmd 2> ../o", "cmd 2>>../o", "x>../o"],
		],
		["a redirection to an absolute path outside", ["echo x > /tmp/pi-workflows-never-here.txt"]],
		[
			"a write after cd out",
			["cd .. && echo x > f", "cd ..; touch f", "cd sub/../.. && touch f", "pushd .. && touch f"],
		],
		[
			"a cd out inside a subshell or on its own line",
			["(cd .. && touch f)", "cd ..\nrm -f f", "true || cd ..\ntouch f"],
		],
		["quoted paths", ['echo x > "../with space.txt"', "touch '../q.txt'", 'touch ".."/f', "touch \\.\\./f"]],
		["tee, also with -a", ["echo x | tee ../log", "echo x | tee -a ok.log ../log"]],
		[
			"a cp or mv destination outside",
			["cp src.txt ../dst.txt", "cp -r a b ../dst/", "cp -t ../dir a b", "mv a ../b"],
		],
		["a mv source outside (it is removed)", ["mv ../outside.txt here.txt"]],
		[
			"mkdir, touch, rm, rmdir, ln, install outside",
			["mkdir -p ../x/y", "rm -rf ../x", "rmdir ../d", "ln -s t ../l"],
		],
		["install -d, truncate, dd of=", ["install -d ../d", "truncate -s 0 ../f", "dd if=/dev/zero of=../f count=1"]],
		["sed -i and perl -i", ["sed -i 's/a/b/' ../f", "sed -i.bak -e s/a/b/ ../f", "perl -pi -e 's/a/b/' ../f"]],
		["a linked folder inside pointing outside", ["echo x > escape/f", "touch escape/../f"]],
		["a dangling link pointing outside", ["echo x > dangling", "cp a.txt dangling"]],
		[
			"a script run by bash -c, eval or $(...)",
			["bash -c 'echo x > ../f'", 'sh -ec "cd .. && touch f"', "eval 'touch ../f'"],
		],
		["commands inside substitutions", ["echo $(echo x > ../f)", "echo `touch ../f`", "diff <(touch ../f) a"]],
		["a here-document's $(...), which runs", ["cat > notes.md <<EOF\n$(touch ../f)\nEOF"]],
		[
			"wrappers and assignments before the command",
			["sudo tee ../f", "env A=1 touch ../f", "FOO=1 nice -n 5 touch ../f"],
		],
		[
			"control structures",
			["if true; then echo x > ../f; fi", "case a in a) echo x > ../f;; esac", "{ touch ../f; }"],
		],
		["find deleting outside", ["find .. -name '*.tmp' -delete", "find . -exec cp {} ../out \\;"]],
		["a pattern that can match ..", ["rm -rf .*"]],
	])("refuses %s", (_name, commands) => {
		for (const command of commands) expect(check(command), command).toMatch(/^refused: /);
	});

	it.each([
		["$VAR", "echo x > $OUT", "$OUT is only known when the command runs"],
		["a quoted $VAR", 'echo x > "$HOME/x"', "$HOME is only known when the command runs"],
		["$(...)", "touch $(mktemp)", "$(...) is only known when the command runs"],
		["backticks", "touch `pwd`/x", "`...` is only known when the command runs"],
		["~user", "echo x > ~bob/x", "~bob is only known when the command runs"],
		["a loop variable", "for f in a b; do touch ../$f; done", "$f is only known when the command runs"],
		["a cd to $DIR", "cd $DIR && touch f", 'write "f" after cd $DIR, a folder only known when the command runs'],
		["xargs rm", "ls | xargs rm -f", "run rm on names from xargs' input"],
		["bash -c with a variable script", 'bash -c "$SCRIPT"', "a script only known when the command runs"],
	])("refuses a target it cannot resolve statically: %s", (_name, command, reason) => {
		const problem = check(command);
		expect(problem).toContain(reason);
		expect(problem).toContain(`use literal paths inside the places stage "impl" may write: ${layout.tree}`);
	});
});

describe("containment in a real stage session", () => {
	let layout: Layout;
	beforeEach(() => {
		layout = makeLayout();
		writeFileSync(join(layout.elsewhere, "target.txt"), "old text\n");
		symlinkSync(join(layout.elsewhere, "target.txt"), join(layout.tree, "linked.txt"));
	});
	afterEach(() => rmSync(layout.base, { recursive: true, force: true }));

	/** One turn of tool calls: three that leave the roots, two that stay inside; then an answer. */
	const calls: ScriptedReply = {
		toolCalls: [
			{ name: "write", arguments: { path: "../outside-write.txt", content: "escaped\n" } },
			{ name: "edit", arguments: { path: "linked.txt", edits: [{ oldText: "old", newText: "new" }] } },
			{ name: "bash", arguments: { command: "echo hi > ../outside-bash.txt" } },
			{ name: "write", arguments: { path: "inside.txt", content: "landed\n" } },
			{ name: "bash", arguments: { command: "echo ok > ../artifacts/note.txt" } },
		],
	};

	async function runStage(writeRoots: readonly string[] | undefined) {
		const provider = createScriptedProvider({
			models: ["fast"],
			script: (request) => (request.afterToolResult ? "done" : calls),
		});
		const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });
		const model = resolveModelSpec("scripted/fast", modelRegistry);
		if (!model.ok) throw new Error(model.error);
		const ends: Array<Extract<StageActivity, { type: "tool_end" }>> = [];
		const marker = 'Stage "impl" of workflow "containment".';
		const outcome = await runStageSession({
			cwd: layout.tree,
			agentDir: join(layout.base, "agent"),
			sessionFile: join(layout.base, "sessions", "impl.jsonl"),
			model: model.value,
			tools: ["read", "bash", "edit", "write"],
			prompt: `${marker}\n\nWrite the files.`,
			promptMarker: marker,
			modelRegistry,
			resources: { extensions: false, skills: false, contextFiles: false },
			signal: new AbortController().signal,
			onActivity: (activity) => {
				if (activity.type === "tool_end") ends.push(activity);
			},
			...(writeRoots ? { writeRoots } : {}),
		});
		return { outcome, ends };
	}

	it("refuses write, edit through a link and bash outside the roots, and lets writes inside land", async () => {
		const { outcome, ends } = await runStage([layout.tree, layout.artifacts]);
		expect(outcome.ok, outcome.error).toBe(true);
		expect(existsSync(join(layout.base, "outside-write.txt"))).toBe(false);
		expect(existsSync(join(layout.base, "outside-bash.txt"))).toBe(false);
		expect(readFileSync(join(layout.elsewhere, "target.txt"), "utf8")).toBe("old text\n");
		const failed = ends.filter((end) => end.isError);
		expect(failed.map((end) => end.tool).sort()).toEqual(["bash", "edit", "write"]);
		const allowed = `outside the places stage "impl" may write: ${layout.tree}, ${layout.artifacts}`;
		for (const end of failed) expect(end.error).toContain(allowed);
		const errors = failed.map((end) => end.error).join("\n");
		expect(errors).toContain('refused: writing "../outside-write.txt"');
		expect(errors).toContain(`refused: writing "linked.txt" (resolves to ${join(layout.elsewhere, "target.txt")})`);
		expect(errors).toContain('refused: bash would write "../outside-bash.txt"');
		expect(readFileSync(join(layout.tree, "inside.txt"), "utf8")).toBe("landed\n");
		expect(readFileSync(join(layout.artifacts, "note.txt"), "utf8")).toBe("ok\n");
	});

	it("without write roots the same calls go through (the guard is what refuses them)", async () => {
		const { outcome, ends } = await runStage(undefined);
		expect(outcome.ok, outcome.error).toBe(true);
		expect(ends.filter((end) => end.isError)).toEqual([]);
		expect(readFileSync(join(layout.base, "outside-write.txt"), "utf8")).toBe("escaped\n");
		expect(readFileSync(join(layout.base, "outside-bash.txt"), "utf8")).toBe("hi\n");
		expect(readFileSync(join(layout.elsewhere, "target.txt"), "utf8")).toBe("new text\n");
	});
});
