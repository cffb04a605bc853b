import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { WagmiProvider } from "wagmi";

import { App } from "./App";
import "./styles.css";
import { createWagmi } from "./wagmi";

const root = createRoot(document.getElementById("root")!);
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 1_000 } } });

createWagmi()
  .then(({ wagmi, devAccounts }) =>
    root.render(
      <StrictMode>
        <WagmiProvider config={wagmi}>
          <QueryClientProvider client={queryClient}>
            <App devAccounts={devAccounts} />
          </QueryClientProvider>
        </WagmiProvider>
      </StrictMode>,
    ),
  )
  .catch((err: unknown) => root.render(<pre className="error">{String(err)}</pre>));
