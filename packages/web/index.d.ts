/** Absolute path of the built app (`dist/`, made by the package's build). */
export declare const webRoot: string;
