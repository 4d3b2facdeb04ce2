// The builtin workflows, for programmatic use: `import { reviewChange, task } from "pi-workflows/builtin"`.

export { default as fanOut } from "./fan-out.js";
export { default as loopUntilDone } from "./loop-until-done.js";
export { default as reviewChange } from "./review-change.js";
export { default as task } from "./task.js";
export { default as verifyClaims } from "./verify-claims.js";
