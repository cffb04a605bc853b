import { useEffect, useState } from "react";

import { Wallet } from "./components/Wallet";
import { config } from "./config";
import type { DevAccount } from "./lib/devConnector";
import { BorrowerPage } from "./pages/Borrower";
import { LenderPage } from "./pages/Lender";
import { ReceiptsPage } from "./pages/Receipts";
import { RiskPage } from "./pages/Risk";

const PAGES = {
  lender: { title: "Lender", Page: LenderPage },
  borrower: { title: "Borrower", Page: BorrowerPage },
  risk: { title: "Risk", Page: RiskPage },
  receipts: { title: "Receipts", Page: ReceiptsPage },
} as const;
type PageId = keyof typeof PAGES;

function currentPage(): PageId {
  const id = window.location.hash.replace(/^#\/?/, "").split("?")[0] as PageId;
  return id in PAGES ? id : "lender";
}

export function App({ devAccounts }: { devAccounts: DevAccount[] }) {
  const [page, setPage] = useState<PageId>(currentPage);
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const { Page } = PAGES[page];
  return (
    <div className="app">
      <header>
        <div className="brand">GPU credit</div>
        <nav>
          {(Object.keys(PAGES) as PageId[]).map((id) => (
            <a key={id} href={`#/${id}`} className={id === page ? "active" : ""} data-testid={`nav-${id}`}>
              {PAGES[id].title}
            </a>
          ))}
        </nav>
        <Wallet devAccounts={devAccounts} />
      </header>
      <main data-testid={`page-${page}`}>
        {config.deployment ? (
          <Page />
        ) : (
          <p className="error">
            Nothing is deployed on "{config.network}" in this build: deploy the protocol, then run `npm run
            contracts` in app/ and reload.
          </p>
        )}
      </main>
      <footer className="muted small">
        {config.chain.name} (chain {config.chain.id}) · history from the indexer at {config.indexerUrl} ·
        current state from the chain
      </footer>
    </div>
  );
}
