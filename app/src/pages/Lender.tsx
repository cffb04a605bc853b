/**
 * Lender: USDC -> USDai (mint) and back (redeem), USDai -> sUSDai (stake), ERC-7540 redemption requests with the
 * position in the FIFO queue and an estimate of when they will be serviced, servicing (permissionless) and claims;
 * sUSDai's price and trailing APY from the indexer's snapshots.
 */
import { useAccount, useReadContracts } from "wagmi";
import { erc20Abi, zeroAddress, type Address } from "viem";

import { LineChart } from "../components/LineChart";
import { ActionButton, AmountForm, Card, ErrorNote, Facts, Loading, Table } from "../components/ui";
import { config } from "../config";
import { useChainNow } from "../lib/chainTime";
import { contracts, faucetAbi } from "../lib/contracts";
import {
  formatAmount,
  formatBps,
  formatDate,
  formatDuration,
  formatTime,
  formatUsd,
  shortAddress,
} from "../lib/format";
import { big, useQueue, useSusdaiHistory, type Redemption } from "../lib/indexer";
import type { ContractCall } from "../lib/tx";

const WAD = 10n ** 18n;
/** Slippage allowed on a stake: sUSDai's price moves with every second of loan interest. */
const STAKE_SLIPPAGE_BPS = 50n;

function useLenderState(account: Address | undefined) {
  const c = contracts();
  const me = account ?? zeroAddress;
  const core = useReadContracts({
    allowFailure: false,
    contracts: [
      { ...c.usdai, functionName: "reserveToken" },
      { ...c.usdai, functionName: "reserveScale" },
      { ...c.usdai, functionName: "balanceOf", args: [me] },
      { ...c.usdai, functionName: "allowance", args: [me, c.susdai.address] },
      { ...c.susdai, functionName: "balanceOf", args: [me] },
      { ...c.susdai, functionName: "convertToAssets", args: [WAD] },
      { ...c.susdai, functionName: "totalAssets" },
      { ...c.susdai, functionName: "idleAssets" },
      { ...c.susdai, functionName: "totalSupply" },
      { ...c.susdai, functionName: "pendingRedeemRequest", args: [0n, me] },
      { ...c.susdai, functionName: "claimableRedeemRequest", args: [0n, me] },
      { ...c.susdai, functionName: "controllerState", args: [me] },
      { ...c.susdai, functionName: "params" },
      { ...c.susdai, functionName: "maxDeposit", args: [me] },
      { ...c.usdai, functionName: "liquidReserves" },
    ],
    query: { refetchInterval: config.pollMs },
  });
  const reserveToken = core.data?.[0];
  const reserve = useReadContracts({
    allowFailure: false,
    contracts: [
      { address: reserveToken ?? zeroAddress, abi: erc20Abi, functionName: "balanceOf", args: [me] },
      {
        address: reserveToken ?? zeroAddress,
        abi: erc20Abi,
        functionName: "allowance",
        args: [me, c.usdai.address],
      },
      { address: reserveToken ?? zeroAddress, abi: erc20Abi, functionName: "decimals" },
      { address: reserveToken ?? zeroAddress, abi: erc20Abi, functionName: "symbol" },
    ],
    query: { enabled: reserveToken !== undefined, refetchInterval: config.pollMs },
  });
  const refetch = () => {
    void core.refetch();
    void reserve.refetch();
  };
  return { core, reserve, refetch };
}

export function LenderPage() {
  const { address } = useAccount();
  const { core, reserve, refetch } = useLenderState(address);
  if (core.error) return <ErrorNote error={core.error} />;
  if (!core.data || !reserve.data) return <Loading what="balances" />;
  const c = contracts();
  const [
    reserveToken,
    reserveScale,
    usdaiBalance,
    usdaiAllowance,
    shares,
    price,
    totalAssets,
    idle,
    totalSupply,
    pending,
    claimable,
    controller,
    params,
    maxDeposit,
    liquidReserves,
  ] = core.data;
  const [usdcBalance, usdcAllowance, usdcDecimals, usdcSymbol] = reserve.data;
  const [cooldown, minRedeemShares] = params;
  const value = (shares * price) / WAD;

  const approve = (
    token: Address,
    spender: Address,
    label: string,
    allowance: bigint,
    amount: bigint,
  ): ContractCall[] =>
    allowance >= amount
      ? []
      : [{ label, address: token, abi: erc20Abi, functionName: "approve", args: [spender, amount] }];

  return (
    <div className="grid">
      <Card title="Your position" testId="position">
        {!address && <p className="muted">Connect a wallet to see your balances.</p>}
        <Facts
          rows={[
            [usdcSymbol, formatAmount(usdcBalance, usdcDecimals), "balance-usdc"],
            ["USDai", formatAmount(usdaiBalance, 18), "balance-usdai"],
            ["sUSDai", `${formatAmount(shares, 18, 4)} (${formatUsd(value)})`, "balance-susdai"],
            ["Redemption pending (shares)", formatAmount(pending, 18, 4), "redeem-pending"],
            [
              "Redemption claimable",
              `${formatAmount(claimable, 18, 4)} shares = ${formatUsd(controller.claimableAssets)}`,
              "redeem-claimable",
            ],
          ]}
        />
        {config.isLocal && config.deployment?.contracts.ReserveToken && (
          <ActionButton
            id="faucet"
            label={`Get 10,000 test ${usdcSymbol} (local faucet)`}
            calls={() => [
              {
                label: `Mint test ${usdcSymbol}`,
                address: reserveToken,
                abi: faucetAbi,
                functionName: "mint",
                args: [address ?? zeroAddress, 10_000n * 10n ** BigInt(usdcDecimals)],
              },
            ]}
            onDone={refetch}
          />
        )}
      </Card>

      <Card title="sUSDai" testId="susdai-facts">
        <Facts
          rows={[
            ["Price (USDai per sUSDai)", formatAmount(price, 18, 6), "susdai-price"],
            ["NAV (total assets)", formatUsd(totalAssets)],
            ["Supply", formatAmount(totalSupply, 18)],
            ["Idle USDai (services redemptions)", formatUsd(idle), "susdai-idle"],
            ["Lent out", formatUsd(totalAssets > idle ? totalAssets - idle : 0n)],
            ["Redemption cooldown", formatDuration(cooldown)],
            ["USDai liquid reserves", formatAmount(liquidReserves, Number(usdcDecimals)) + ` ${usdcSymbol}`],
          ]}
        />
        <PriceChart />
      </Card>

      <Card title={`Mint USDai with ${usdcSymbol}`} testId="card-mint">
        <AmountForm
          id="mint"
          label={`${usdcSymbol} to deposit (1 ${usdcSymbol} mints 1 USDai)`}
          symbol={usdcSymbol}
          decimals={usdcDecimals}
          action="Mint USDai"
          limit={{ max: usdcBalance, label: `your ${usdcSymbol} balance` }}
          preview={(amount) => <>You receive {formatAmount(amount * reserveScale, 18)} USDai.</>}
          calls={(amount) => [
            ...approve(reserveToken, c.usdai.address, `Approve ${usdcSymbol}`, usdcAllowance, amount),
            {
              label: "Mint USDai",
              ...c.usdai,
              functionName: "deposit",
              args: [amount, amount * reserveScale, address ?? zeroAddress],
            },
          ]}
          onDone={refetch}
        />
        <AmountForm
          id="redeem-usdai"
          label={`USDai to redeem for ${usdcSymbol}`}
          symbol="USDai"
          decimals={18}
          action={`Redeem for ${usdcSymbol}`}
          limit={{ max: usdaiBalance, label: "your USDai balance" }}
          preview={(amount) => (
            <>
              You receive {formatAmount(amount / reserveScale, usdcDecimals, usdcDecimals)} {usdcSymbol}{" "}
              (amounts below 1 {usdcSymbol} unit stay as USDai).
            </>
          )}
          calls={(amount) => [
            {
              label: `Redeem USDai for ${usdcSymbol}`,
              ...c.usdai,
              functionName: "redeem",
              args: [amount, amount / reserveScale, address ?? zeroAddress],
            },
          ]}
          onDone={refetch}
        />
      </Card>

      <Card title="Stake USDai for sUSDai" testId="card-stake">
        <AmountForm
          id="stake"
          label="USDai to stake"
          symbol="USDai"
          decimals={18}
          action="Stake"
          limit={{
            max: usdaiBalance < maxDeposit ? usdaiBalance : maxDeposit,
            label: usdaiBalance < maxDeposit ? "your USDai balance" : "what the vault accepts now",
          }}
          preview={(amount) => (
            <>
              About {formatAmount((amount * WAD) / price, 18, 4)} sUSDai at {formatAmount(price, 18, 6)} USDai
              each (at least{" "}
              {formatAmount((((amount * WAD) / price) * (10_000n - STAKE_SLIPPAGE_BPS)) / 10_000n, 18, 4)}, or
              the stake reverts).
            </>
          )}
          calls={(amount) => [
            ...approve(c.usdai.address, c.susdai.address, "Approve USDai", usdaiAllowance, amount),
            {
              label: "Stake USDai",
              ...c.susdai,
              functionName: "deposit",
              args: [
                amount,
                address ?? zeroAddress,
                (((amount * WAD) / price) * (10_000n - STAKE_SLIPPAGE_BPS)) / 10_000n,
              ],
            },
          ]}
          onDone={refetch}
        />
      </Card>

      <Card title="Redeem sUSDai (ERC-7540 request, FIFO queue)" testId="card-request">
        <AmountForm
          id="request"
          label="sUSDai shares to redeem"
          symbol="sUSDai"
          decimals={18}
          action="Request redemption"
          limit={{ max: shares, label: "your sUSDai balance" }}
          preview={(amount) => (
            <>
              Worth {formatUsd((amount * price) / WAD)} at today's price; priced when serviced, after a{" "}
              {formatDuration(cooldown)} cooldown.
              {amount < minRedeemShares && (
                <span className="error">
                  {" "}
                  Below the minimum request of {formatAmount(minRedeemShares, 18, 4)} shares.
                </span>
              )}
            </>
          )}
          calls={(amount) => [
            {
              label: "Request redemption",
              ...c.susdai,
              functionName: "requestRedeem",
              args: [amount, address ?? zeroAddress, address ?? zeroAddress],
            },
          ]}
          onDone={refetch}
        />
        <QueuePosition account={address} idle={idle} price={price} />
        <ActionButton
          id="service"
          label="Service the queue (up to 10 requests)"
          calls={() => [
            { label: "Service redemptions", ...c.susdai, functionName: "serviceRedemptions", args: [10n] },
          ]}
          onDone={refetch}
        />
        <ActionButton
          id="claim"
          label={`Claim ${formatUsd(controller.claimableAssets)}`}
          disabledReason={claimable === 0n ? "Nothing is claimable yet." : undefined}
          calls={() => [
            {
              label: "Claim redemption",
              ...c.susdai,
              functionName: "redeem",
              args: [claimable, address ?? zeroAddress, address ?? zeroAddress],
            },
          ]}
          onDone={refetch}
        />
      </Card>

      <Card title="Junior tranche (jUSDai)" testId="junior">
        <p className="muted">
          First-loss capital for the loan book. Not deployed on this network yet: nothing to show or do here
          until it is.
        </p>
      </Card>
      <p className="muted small">Approvals are for the exact amount of each action, never unlimited.</p>
    </div>
  );
}

function PriceChart() {
  const history = useSusdaiHistory();
  if (history.error) return <ErrorNote error={history.error} />;
  if (!history.data) return <Loading what="price history" />;
  const snaps = [...history.data.snapshots].reverse();
  const latestApy = history.data.snapshots.find((s) => s.trailingApy !== null)?.trailingApy;
  return (
    <>
      <LineChart
        testId="chart-susdai"
        title="sUSDai"
        formatX={(x) => formatDate(x)}
        left={{
          name: "price (USDai)",
          color: "#2563eb",
          format: (y) => y.toFixed(4),
          points: snaps.map((s) => ({ x: Number(s.timestamp), y: Number(big(s.pricePerShare)) / 1e18 })),
        }}
        right={{
          name: "trailing APY",
          color: "#16a34a",
          format: (y) => `${(y * 100).toFixed(2)}%`,
          points: snaps
            .filter((s) => s.trailingApy !== null)
            .map((s) => ({ x: Number(s.timestamp), y: s.trailingApy! })),
        }}
      />
      <p className="small" data-testid="trailing-apy">
        Trailing APY:{" "}
        {latestApy === undefined || latestApy === null
          ? "not enough history yet"
          : formatBps(Math.round(latestApy * 10_000))}{" "}
        ({snaps.length} snapshots from the indexer)
      </p>
    </>
  );
}

/**
 * The account's open requests in the FIFO queue: position, shares ahead, and an estimate of when each will be
 * serviced: at the end of its cooldown if idle USDai covers it and everything ahead, otherwise once that much more
 * USDai is idle (repayments, deposits).
 */
function QueuePosition({ account, idle, price }: { account?: Address; idle: bigint; price: bigint }) {
  const queue = useQueue(undefined);
  const now = useChainNow();
  if (!account) return null;
  if (queue.error) return <ErrorNote error={queue.error} />;
  if (!queue.data) return <Loading what="the redemption queue" />;
  const open = queue.data.requests.filter((r) => r.status === "pending" || r.status === "partially_serviced");
  const remaining = (r: Redemption) => big(r.shares) - big(r.servicedShares);
  let ahead = 0n;
  const rows = [];
  for (const [i, r] of open.entries()) {
    const left = remaining(r);
    if (r.controller.toLowerCase() === account.toLowerCase()) {
      const needed = ((ahead + left) * price) / WAD;
      const claimableAt = Number(r.claimableAt);
      const estimate =
        idle >= needed
          ? claimableAt <= now
            ? "serviceable now: any keeper (or you) can service the queue"
            : `at the end of its cooldown, ${formatTime(claimableAt)} (in ${formatDuration(claimableAt - now)})`
          : `after the cooldown, once ${formatUsd(needed - idle)} more USDai is idle (repayments or new deposits)`;
      rows.push({
        key: r.id,
        testId: `queue-row-${r.id}`,
        cells: [
          `#${r.id}`,
          `${i + 1} of ${open.length}`,
          formatAmount(left, 18, 4),
          formatAmount(ahead, 18, 4),
          r.status,
          estimate,
        ],
      });
    }
    ahead += left;
  }
  return (
    <>
      <h3>Your requests in the queue</h3>
      <Table
        testId="queue"
        head={["request", "position", "shares left", "shares ahead", "status", "estimated service"]}
        rows={rows}
        empty={`No open requests for ${shortAddress(account)}.`}
      />
    </>
  );
}
