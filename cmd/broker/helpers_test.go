package main_test

import "math/big"

func bigOne() *big.Int { return big.NewInt(1) }
