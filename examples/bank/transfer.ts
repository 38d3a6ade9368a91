// One transfer's effect on the accounts, shared by the tellers and the sequential baseline in
// bench/: moves `amount` if `from` can pay it, and folds the transfer into both accounts'
// order-sensitive history hashes. The caller holds both accounts' locks (or runs alone).

export function transfer(balances: Int32Array, history: Int32Array, from: number, to: number, amount: number, stamp: number): boolean {
  let moved = false;
  if (balances[from]! >= amount) {
    balances[from]! -= amount;
    balances[to]! += amount;
    moved = true;
  }
  history[from] = (Math.imul(history[from]!, 31) + stamp + amount) | 0;
  history[to] = (Math.imul(history[to]!, 31) + stamp + amount) | 0;
  return moved;
}
