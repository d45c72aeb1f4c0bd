export { sharedSecret } from "./repository.js";
