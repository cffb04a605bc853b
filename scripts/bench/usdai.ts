import { getReserveToken, getUSDai } from "../../helpers/contracts";
import { Tags } from "../../helpers/deploy-ids";
import { getActors } from "../../helpers/actors";
import { gasOf, type BenchSuite } from "./types";
import { usd, usdc } from "../../helpers/units";

/** USDai: deposit, redeem from the liquid buffer, and harvest, each measured warm (not the first-ever call). */
export const usdaiSuite: BenchSuite = {
  name: "USDai",
  async run(hre) {
    await hre.deployments.fixture([Tags.Protocol]);
    const { lender1, reserveManager } = await getActors();
    const usdai = await getUSDai(hre, lender1);
    const reserve = await getReserveToken(hre, lender1);

    await reserve.mint(lender1.address, usdc("1000000"));
    await reserve.approve(await usdai.getAddress(), usdc("1000000"));
    await usdai.deposit(usdc("100000"), 0n, lender1.address);
    const deposit = await gasOf(usdai.deposit(usdc("1000"), 0n, lender1.address));

    await usdai.redeem(usd("10"), 0n, lender1.address);
    const redeem = await gasOf(usdai.redeem(usd("1000"), 0n, lender1.address));

    await usdai.connect(reserveManager).allocate(usdc("50000"));
    await hre.network.provider.send("evm_increaseTime", [30 * 24 * 3600]);
    await usdai.harvest();
    await hre.network.provider.send("evm_increaseTime", [30 * 24 * 3600]);
    const harvest = await gasOf(usdai.harvest());

    return [
      { key: "USDai.deposit", gas: deposit },
      { key: "USDai.redeem", gas: redeem, note: "from the liquid buffer" },
      { key: "USDai.harvest", gas: harvest, note: "T-bill yield accrued" },
    ];
  },
};
