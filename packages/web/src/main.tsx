import { createRoot } from "react-dom/client";
import { App } from "./App";
import { ErrorBoundary } from "./ErrorBoundary";
import { SessionProvider } from "./session";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <ErrorBoundary where="app">
    <SessionProvider>
      <App />
    </SessionProvider>
  </ErrorBoundary>,
);
