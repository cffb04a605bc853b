import { MaxUint256 } from "ethers";

import { getReserveToken, getStakedUSDai, getUSDai } from "../../helpers/contracts";
import { Tags } from "../../helpers/deploy-ids";
import { Roles } from "../../helpers/roles";
import { getActors } from "../../helpers/actors";
import { gasOf, type BenchSuite } from "./types";
import { usd, usdc } from "../../helpers/units";
const WEEK = 7 * 24 * 3600;

/**
 * sUSDai, warm, through the proxy, with a loan vault wired (the LoanVault double, so `totalAssets()` makes its
 * external `loanAssets()` call): deposit, requestRedeem, serviceRedemptions per request filled, claim redeem.
 */
export const susdaiSuite: BenchSuite = {
  name: "StakedUSDai",
  async run(hre) {
    await hre.deployments.fixture([Tags.Protocol]);
    const { deployer, lender1, lender2, keeper } = await getActors();
    const usdai = await getUSDai(hre);
    const reserve = await getReserveToken(hre);
    const susdai = await getStakedUSDai(hre);
    const loans = await hre.ethers.deployContract("MockLoanVaultForStaking", [susdai.target]);
    await susdai.connect(deployer).setLoanVault(loans.target);
    await susdai.connect(deployer).grantRole(Roles.LOAN_VAULT, loans.target);

    for (const lender of [lender1, lender2]) {
      await reserve.mint(lender.address, usdc("1000000"));
      await reserve.connect(lender).approve(usdai.target, MaxUint256);
      await usdai.connect(lender).deposit(usdc("1000000"), 0n, lender.address);
      await usdai.connect(lender).approve(susdai.target, MaxUint256);
    }
    const staker = susdai.connect(lender1);
    await staker["deposit(uint256,address)"](usd(100_000), lender1.address);
    await susdai.connect(lender2)["deposit(uint256,address)"](usd(100_000), lender2.address);
    await loans.fund(deployer.address, usd(50_000));
    const deposit = await gasOf(staker["deposit(uint256,address)"](usd(1_000), lender1.address));

    // warm: lender1 has requested and claimed before
    await staker.requestRedeem(usd(100), lender1.address, lender1.address);
    await hre.network.provider.send("evm_increaseTime", [WEEK]);
    await susdai.connect(keeper).serviceRedemptions(1n);
    await staker.redeem(usd(50), lender1.address, lender1.address);

    // steady state: another lender's request is waiting, so the vault's custody balance is not zero
    await susdai.connect(lender2).requestRedeem(usd(100), lender2.address, lender2.address);
    const requestRedeem = await gasOf(staker.requestRedeem(usd(100), lender1.address, lender1.address));
    for (let i = 0; i < 9; i++) await staker.requestRedeem(usd(100), lender1.address, lender1.address);
    await hre.network.provider.send("evm_increaseTime", [WEEK]);
    const one = await gasOf(susdai.connect(keeper).serviceRedemptions(1n));
    const nine = await gasOf(susdai.connect(keeper).serviceRedemptions(9n));
    await susdai.connect(keeper).serviceRedemptions(10n);
    const claim = await gasOf(staker.redeem(usd(100), lender1.address, lender1.address));

    return [
      { key: "StakedUSDai.deposit", gas: deposit, note: "loan vault wired" },
      { key: "StakedUSDai.requestRedeem", gas: requestRedeem },
      {
        key: "StakedUSDai.serviceRedemptions.perRequest",
        gas: nine / 9n,
        note: `1 request: ${one}; 9: ${nine}`,
      },
      { key: "StakedUSDai.redeem", gas: claim, note: "ERC-7540 claim" },
    ];
  },
};
