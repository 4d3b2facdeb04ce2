// The verify command: how a project's tests are found (each ecosystem, the lockfile's package manager, the order
// when several are present, what does not count) and the check that a given command's program can start.

import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectVerifyCommand, verifyCommandProblem } from "../workflows/lib/verify-command.js";

const folders: string[] = [];
afterEach(() => {
	for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A temp folder holding the given files (path -> content). */
function project(files: Record<string, string> = {}): string {
	const root = realpathSync(mkdtempSync(join(tmpdir(), "pi-workflows-verify-")));
	folders.push(root);
	for (const [path, content] of Object.entries(files)) {
		mkdirSync(dirname(join(root, path)), { recursive: true });
		writeFileSync(join(root, path), content);
	}
	return root;
}

const packageJson = (test?: string) => JSON.stringify({ name: "x", scripts: test === undefined ? {} : { test } });
const NPM_DEFAULT = 'echo "Error: no test specified" && exit 1';

function commandOf(files: Record<string, string>): string | undefined {
	const found = detectVerifyCommand(project(files));
	return found.ok ? found.command : undefined;
}

describe("detectVerifyCommand", () => {
	it.each([
		["node", { "package.json": packageJson("vitest run") }, "npm test"],
		["pytest.ini", { "pytest.ini": "[pytest]\n" }, "pytest -q"],
		["pyproject.toml [tool.pytest.ini_options]", { "pyproject.toml": "[tool.pytest.ini_options]\n" }, "pytest -q"],
		["tox.ini [pytest]", { "tox.ini": "[tox]\nenvlist = py3\n\n[pytest]\naddopts = -q\n" }, "pytest -q"],
		["setup.cfg [tool:pytest]", { "setup.cfg": "[metadata]\nname = x\n[tool:pytest]\n" }, "pytest -q"],
		["tests/test_*.py", { "tests/test_math.py": "def test_x(): pass\n" }, "pytest -q"],
		["go", { "go.mod": "module example.com/x\n" }, "go test ./..."],
		["rust", { "Cargo.toml": '[package]\nname = "x"\n' }, "cargo test"],
		["maven", { "pom.xml": "<project/>\n" }, "mvn -q test"],
		["make", { Makefile: "build:\n\tcc x.c\n\ntest: build\n\t./x --self-test\n" }, "make test"],
		["makefile", { makefile: ".PHONY: test\ntest:\n\ttrue\n" }, "make test"],
		["GNUmakefile", { GNUmakefile: "all check test:: deps\n\ttrue\n" }, "make test"],
	])("detects %s", (_name, files, command) => {
		expect(commandOf(files)).toBe(command);
	});

	it.each([
		["package-lock.json", "npm test", "npm"],
		["pnpm-lock.yaml", "pnpm test", "pnpm"],
		["yarn.lock", "yarn test", "yarn"],
		["bun.lockb", "bun run test", "bun"],
		["bun.lock", "bun run test", "bun"],
	])("chooses the package manager by %s", (lockfile, command, manager) => {
		const found = detectVerifyCommand(project({ "package.json": packageJson("vitest run"), [lockfile]: "" }));
		expect(found).toEqual({
			ok: true,
			command,
			why: `package.json has scripts.test and ${lockfile} says ${manager}`,
		});
	});

	it("uses npm when there is no lockfile, and the first lockfile when there are several", () => {
		expect(detectVerifyCommand(project({ "package.json": packageJson("jest") }))).toEqual({
			ok: true,
			command: "npm test",
			why: "package.json has scripts.test and there is no lockfile, so npm",
		});
		const found = detectVerifyCommand(
			project({ "package.json": packageJson("jest"), "yarn.lock": "", "pnpm-lock.yaml": "" }),
		);
		expect(found).toMatchObject({ ok: true, command: "pnpm test" });
		expect(found.ok && found.why).toContain("yarn.lock also present");
	});

	it.each([
		["npm's default test script", packageJson(NPM_DEFAULT)],
		["an empty test script", packageJson("  ")],
		["no test script", packageJson()],
		["a test script that is not text", JSON.stringify({ scripts: { test: 1 } })],
		["a package.json that is not JSON", "{ scripts: "],
	])("ignores %s and goes on to the next ecosystem", (_name, content) => {
		expect(commandOf({ "package.json": content, "go.mod": "module x\n" })).toBe("go test ./...");
		expect(detectVerifyCommand(project({ "package.json": content })).ok).toBe(false);
	});

	it.each([
		["a Makefile without a test target", { Makefile: "build:\n\tcc x.c\ntests:\n\ttrue\n" }],
		["a variable named test", { Makefile: "test := unit\ntest ::= unit\n\techo test: no\n" }],
		["only .PHONY naming test", { Makefile: ".PHONY: test\n" }],
		["a test target in a Makefile that make does not read", { GNUmakefile: "all:\n", Makefile: "test:\n" }],
		["a pyproject.toml without pytest", { "pyproject.toml": '[project]\nname = "x"\n[tool.ruff]\n' }],
		["a tox.ini without [pytest]", { "tox.ini": "[tox]\nenvlist = py3\n" }],
		["a setup.cfg without [tool:pytest]", { "setup.cfg": "[metadata]\nname = x\n" }],
		["a tests/ folder without test_*.py", { "tests/helper.py": "", "tests/test_data.json": "" }],
	])("does not choose %s", (_name, files) => {
		expect(detectVerifyCommand(project(files)).ok).toBe(false);
	});

	it("says why it chose a command", () => {
		const why = (files: Record<string, string>) => {
			const found = detectVerifyCommand(project(files));
			return found.ok ? found.why : found.error;
		};
		expect(why({ "pyproject.toml": "[tool.pytest.ini_options]\n" })).toBe(
			"pyproject.toml has [tool.pytest.ini_options]",
		);
		expect(why({ "tests/test_b.py": "", "tests/test_a.py": "" })).toBe("tests/ holds test_a.py");
		expect(why({ "Cargo.toml": "" })).toBe("Cargo.toml exists");
		expect(why({ Makefile: "test:\n" })).toBe("Makefile has a test target");
	});

	it("takes node before python before go before rust before maven before make", () => {
		const all: Record<string, string> = {
			"package.json": packageJson("vitest run"),
			"pytest.ini": "[pytest]\n",
			"go.mod": "module x\n",
			"Cargo.toml": "",
			"pom.xml": "<project/>",
			Makefile: "test:\n\ttrue\n",
		};
		const order = ["npm test", "pytest -q", "go test ./...", "cargo test", "mvn -q test", "make test"];
		const files = Object.keys(all);
		for (const [index, command] of order.entries()) {
			const remaining = Object.fromEntries(files.slice(index).map((file) => [file, all[file] ?? ""]));
			expect(commandOf(remaining)).toBe(command);
		}
	});

	it("names every file it looked for when it finds nothing", () => {
		const root = project({ "README.md": "# x\n", Makefile: "build:\n" });
		expect(detectVerifyCommand(root)).toEqual({
			ok: false,
			error:
				`no verify command given and none found in ${root}: looked for package.json scripts.test, pytest ` +
				"(pyproject.toml [tool.pytest], pytest.ini, tox.ini, setup.cfg, tests/test_*.py), go.mod, Cargo.toml, " +
				'pom.xml, a Makefile with a test target; pass "verify" (for example "npm test")',
		});
	});

	it("says so when the folder does not exist", () => {
		const missing = join(project(), "gone");
		const found = detectVerifyCommand(missing);
		expect(found.ok).toBe(false);
		expect(!found.ok && found.error).toContain(`${missing} is not a folder`);
	});
});

describe("verifyCommandProblem", () => {
	/** A folder with an executable `run-tests.sh` and a plain `notes.sh`. */
	function scripts(): string {
		const root = project({ "run-tests.sh": "#!/bin/sh\nexit 0\n", "notes.sh": "echo hi\n", "bin/.keep": "" });
		chmodSync(join(root, "run-tests.sh"), 0o755);
		chmodSync(join(root, "notes.sh"), 0o644);
		return root;
	}

	it("passes a program found on PATH, after env assignments too", () => {
		const cwd = project();
		expect(verifyCommandProblem("node --version", cwd)).toBeUndefined();
		expect(verifyCommandProblem("CI=1 node -e 1", cwd)).toBeUndefined();
		expect(verifyCommandProblem("CI=1 FOO='a b' NODE_OPTIONS=\"--x y\" node -e 1", cwd)).toBeUndefined();
	});

	it("names a program that is not on PATH, and shows the PATH", () => {
		const command = "definitely-not-a-program-xyz --flag";
		const problem = verifyCommandProblem(command, project(), { PATH: "/nowhere/a:/nowhere/b" });
		expect(problem).toBe(
			`verify command "${command}": "definitely-not-a-program-xyz" was not found on PATH (PATH: /nowhere/a${delimiter}/nowhere/b)`,
		);
		expect(verifyCommandProblem("CI=1 definitely-not-a-program-xyz", project())).toContain(
			'"definitely-not-a-program-xyz" was not found on PATH (PATH: ',
		);
	});

	it("shortens a long PATH in the message", () => {
		const entries = Array.from({ length: 40 }, (_, index) => `/nowhere/folder-number-${index}`);
		const problem = verifyCommandProblem("missing-xyz", project(), { PATH: entries.join(delimiter) }) ?? "";
		expect(problem).toMatch(/and \d+ more\)$/);
		expect(problem.length).toBeLessThan(400);
		expect(verifyCommandProblem("missing-xyz", project(), {})).toContain("(PATH is empty)");
	});

	it("passes a relative executable file and refuses one that is not executable", () => {
		const cwd = scripts();
		expect(verifyCommandProblem("./run-tests.sh", cwd)).toBeUndefined();
		expect(verifyCommandProblem("CI=1 ./run-tests.sh --fast", cwd)).toBeUndefined();
		expect(verifyCommandProblem(join(cwd, "run-tests.sh"), project())).toBeUndefined();
		expect(verifyCommandProblem("./notes.sh", cwd)).toBe(
			'verify command "./notes.sh": "./notes.sh" is a file but not executable (chmod +x it, or run it through its interpreter, for example "sh ./notes.sh")',
		);
		expect(verifyCommandProblem("./missing.sh", cwd)).toBe(
			`verify command "./missing.sh": "./missing.sh" does not exist (looked at ${join(cwd, "missing.sh")})`,
		);
		expect(verifyCommandProblem("./bin", cwd)).toContain('"./bin" is a folder, not a program');
	});

	it("looks on the PATH it is given, and on a PATH the command sets", () => {
		const cwd = scripts();
		const bin = join(cwd, "bin");
		writeFileSync(join(bin, "my-runner"), "#!/bin/sh\n");
		chmodSync(join(bin, "my-runner"), 0o755);
		expect(verifyCommandProblem("my-runner", cwd, { PATH: bin })).toBeUndefined();
		expect(verifyCommandProblem("my-runner", cwd, { PATH: "/nowhere" })).toContain('"my-runner" was not found');
		expect(verifyCommandProblem("PATH=./bin:$PATH my-runner", cwd, { PATH: "/nowhere" })).toBeUndefined();
		expect(verifyCommandProblem("PATH=/nowhere my-runner", cwd, { PATH: bin })).toContain("(PATH: /nowhere)");
	});

	it.each([
		"cd sub && npm test",
		"test -f package.json",
		"[ -d tests ]",
		"true",
		"exit 0",
		"(cd sub && make test)",
		"$PYTHON -m pytest",
	])("passes %s, which the shell resolves itself", (command) => {
		expect(verifyCommandProblem(command, project(), { PATH: "/nowhere" })).toBeUndefined();
	});

	it("refuses an empty command and one that only sets variables", () => {
		expect(verifyCommandProblem("  ", project())).toBe('verify command "  ": is empty');
		expect(verifyCommandProblem("CI=1", project())).toBe('verify command "CI=1": sets variables but runs no program');
	});
});
