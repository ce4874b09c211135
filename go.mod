module github.com/baco-go/baco

go 1.26.8
