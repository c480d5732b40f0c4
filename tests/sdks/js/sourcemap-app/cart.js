// The code the error comes from: its original lines are what the dashboard
// must show once the source map is applied.
export function checkout(cart) {
  const total = sumPrices(cart.items);
  return total;
}

function sumPrices(items) {
  if (items.length === 0) {
    throw new TypeError("cart is empty");
  }
  return items.reduce((sum, item) => sum + item.price, 0);
}
