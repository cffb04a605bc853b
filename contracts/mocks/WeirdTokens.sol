// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// ERC-20 metadata getters keep their standard lowercase names.
// solhint-disable const-name-snakecase

/// @notice A token that returns `false` instead of reverting when a transfer fails (e.g. old USDT-style tokens).
/// @dev Test double for SafeERC20 handling. Never deployed outside the local networks.
contract FalseReturnToken {
    // solhint-disable-next-line const-name-snakecase
    string public constant name = "False Return USD";
    // solhint-disable-next-line const-name-snakecase
    string public constant symbol = "FRUSD";
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        return _transfer(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (allowance[from][msg.sender] < amount) return false;
        if (!_transfer(from, to, amount)) return false;
        allowance[from][msg.sender] -= amount;
        return true;
    }

    function _transfer(address from, address to, uint256 amount) private returns (bool) {
        if (balanceOf[from] < amount) return false;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
        return true;
    }
}
