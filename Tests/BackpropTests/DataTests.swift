import Foundation
import Testing
import Backprop
@testable import BackpropCore
@testable import BackpropNN
@testable import BackpropData
@testable import BackpropTraining
@testable import BackpropTeaching

@Suite("DataLoader and datasets")
struct DataLoaderTests {
    let data = TensorDataset(features: Tensor<Float>(shape: [10, 2], scalars: (0..<20).map(Float.init)),
                             classes: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])

    @Test("batches in order without shuffle; dropLast drops the short batch")
    func order() {
        let loader = DataLoader(data, batchSize: 4)
        #expect(loader.batchCount == 3)
        #expect(loader.batchIndices(epoch: 0) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches[2].features == Tensor<Float>([[16, 17], [18, 19]]))
        #expect(batches[1].classIndices == [1, 2, 0, 1])
        let dropping = DataLoader(data, batchSize: 4, dropLast: true)
        #expect(dropping.batchCount == 2)
        #expect(Array(dropping.batches(epoch: 0)).map(\.count) == [4, 4])
    }

    @Test("shuffling is a permutation, differs between epochs, and repeats for a seed")
    func shuffle() {
        let a = DataLoader(data, batchSize: 3, shuffle: true, seed: 7)
        let b = DataLoader(data, batchSize: 3, shuffle: true, seed: 7)
        let c = DataLoader(data, batchSize: 3, shuffle: true, seed: 8)
        #expect(a.order(epoch: 0).sorted() == Array(0..<10))
        #expect(a.order(epoch: 0) != Array(0..<10))
        #expect(a.order(epoch: 0) != a.order(epoch: 1))
        #expect(a.order(epoch: 3) == b.order(epoch: 3))
        #expect(a.order(epoch: 0) != c.order(epoch: 0))
        // `for batch in loader` walks epoch 0, then epoch 1, ...
        let first = a.map(\.classIndices)
        let second = a.map(\.classIndices)
        #expect(first == a.batchIndices(epoch: 0).map { $0.map { [0, 1, 2, 0, 1, 2, 0, 1, 2, 0][$0] } })
        #expect(second == a.batchIndices(epoch: 1).map { $0.map { [0, 1, 2, 0, 1, 2, 0, 1, 2, 0][$0] } })
        // Features stay paired with their targets.
        for batch in b.batches(epoch: 2) {
            for (row, cls) in zip(0..<batch.count, batch.classIndices) {
                let i = Int(batch.features[element: row, 0]) / 2
                #expect([0, 1, 2, 0, 1, 2, 0, 1, 2, 0][i] == cls)
            }
        }
    }

    @Test("random split: disjoint, complete, deterministic")
    func split() {
        let (train, validation) = data.trainValidationSplit(validationFraction: 0.3, seed: 1)
        #expect(train.count == 7 && validation.count == 3)
        let ids = (train.features.scalars + validation.features.scalars).enumerated().filter { $0.offset % 2 == 0 }.map { Int($0.element) / 2 }
        #expect(ids.sorted() == Array(0..<10))
        let again = data.trainValidationSplit(validationFraction: 0.3, seed: 1)
        #expect(again.validation.features == validation.features)
        #expect(train.classCount == 3)
    }

    @Test("standardizer: population mean and std fitted on one set, applied to another")
    func standardize() {
        let x = Tensor<Float>([[1, 10, 5], [3, 10, 7], [5, 10, 9]])
        let s = Standardizer(fitting: x)
        #expect(s.mean == [3, 10, 7])
        #expect(abs(s.std[0] - (8.0 / 3).squareRoot()) < 1e-12)
        #expect(s.std[1] == 1)   // constant column
        let y = s.apply(Tensor<Float>([[3, 11, 7]]))
        #expect(y.isClose(to: Tensor<Float>([[0, 1, 0]])))
    }

    @Test("one-hot")
    func oneHotRows() {
        #expect(oneHot([2, 0], classCount: 3, as: Float.self) == Tensor<Float>([[0, 0, 1], [1, 0, 0]]))
    }

    @Test("synthetic tasks: shapes, balanced classes, determinism, known geometry")
    func synthetic() {
        let moons = Synthetic.twoMoons(count: 100, noise: 0, seed: 3)
        #expect(moons.features.shape == [100, 2] && moons.classCount == 2)
        // Without noise, class 0 lies on the unit circle's upper half.
        for i in stride(from: 0, to: 100, by: 2) {
            let a = Double(moons.features[element: i, 0]), b = Double(moons.features[element: i, 1])
            #expect(abs(a * a + b * b - 1) < 1e-5 && b >= 0)
        }
        #expect(Synthetic.twoMoons(count: 100, seed: 3).features == Synthetic.twoMoons(count: 100, seed: 3).features)
        let spirals = Synthetic.spirals(count: 300, classes: 3, noise: 0, seed: 1)
        #expect(spirals.classIndices(of: 0) == 100)
        let sine = Synthetic.sine(count: 50, noise: 0, seed: 2)
        for i in 0..<50 { #expect(abs(sin(sine.features[element: i, 0]) - sine.targets[element: i, 0]) < 1e-6) }
        let blobs = Synthetic.blobs(count: 90, classes: 3, features: 4, seed: 1)
        #expect(blobs.features.shape == [90, 4] && blobs.classCount == 3)
    }

    @Test("the embedded digits equal the files in Data/digits")
    func embeddedDigits() throws {
        let (images, labels) = try Digits.idxFiles()
        let root = DataTestSupport.repositoryRoot + "/Data/digits/"
        #expect(IDXFile.encode(shape: images.shape, bytes: images.bytes) == (try FileIO.readBytes(path: root + "digits-images.idx3-ubyte")))
        #expect(IDXFile.encode(shape: labels.shape, bytes: labels.bytes) == (try FileIO.readBytes(path: root + "digits-labels.idx1-ubyte")))
        let digits = try Digits.load()
        #expect(digits.features.shape == [1797, 64] && digits.classCount == 10)
        #expect(digits.features.scalars.max() == 1 && digits.features.scalars.min() == 0)
        #expect(Array(digits.classIndicesList.prefix(10)) == Array(0..<10))
    }

    @Test("MNIST from a folder, raw or gzip; missing files and mismatched counts are errors")
    func mnistFolder() throws {
        let dir = DataTestSupport.temporaryDirectory("mnist")
        let fm = FileManager.default
        try fm.copyItem(atPath: DataTestSupport.fixture("idx/digits20-images.idx3-ubyte.gz"), toPath: dir + "/train-images-idx3-ubyte.gz")
        try fm.copyItem(atPath: DataTestSupport.fixture("idx/digits20-labels.idx1-ubyte"), toPath: dir + "/train-labels-idx1-ubyte")
        let train = try MNIST.load(folder: dir, split: .train)
        #expect(train.features.shape == [20, 64] && train.classCount == 10)
        #expect(train.features[element: 0, 2] == Float(5) / 255)
        let m = DataTestSupport.dataErrorMessage { _ = try MNIST.load(folder: dir, split: .test) }
        #expect(m == "\(dir): no t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz (MNIST/Fashion-MNIST IDX files, raw or .gz)")
        try fm.copyItem(atPath: DataTestSupport.fixture("idx/digits20-images.idx3-ubyte"), toPath: dir + "/t10k-images-idx3-ubyte")
        try FileIO.writeAtomically(IDXFile.encode(shape: [3], bytes: [1, 2, 3]), to: dir + "/t10k-labels-idx1-ubyte")
        let m2 = DataTestSupport.dataErrorMessage { _ = try MNIST.load(folder: dir, split: .test) }
        #expect(m2 == "\(dir)/t10k-images-idx3-ubyte: IDX: 20 images but 3 labels in \(dir)/t10k-labels-idx1-ubyte")
    }
}

extension TensorDataset {
    var classIndicesList: [Int] { targets.scalars.map { Int($0) } }
    func classIndices(of k: Int) -> Int { classIndicesList.filter { $0 == k }.count }
}

@Suite("CSV")
struct CSVTests {
    func write(_ text: String, _ name: String = "data.csv") -> String {
        let path = DataTestSupport.temporaryDirectory("csv") + "/" + name
        try! FileIO.writeText(text, to: path)
        return path
    }

    @Test("header, text labels, column choice by name and index")
    func loads() throws {
        let path = write("a,b,label,c\n1,2,cat,3\n4,5,dog,6\r\n7,8,cat,9\n\n")
        let d = try TensorDataset.csv(path: path, target: "label")
        #expect(d.features == Tensor<Float>([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
        #expect(d.classNames == ["cat", "dog"] && d.classIndicesList == [0, 1, 0])
        #expect(d.featureNames == ["a", "b", "c"])
        let byIndex = try TensorDataset.csv(path: path, target: 2, features: ["c", 0])
        #expect(byIndex.features == Tensor<Float>([[3, 1], [6, 4], [9, 7]]))
        let regression = try TensorDataset.csv(path: path, target: "c", features: ["a"], task: .regression)
        #expect(regression.targets == Tensor<Float>([[3], [6], [9]]) && regression.classCount == nil)
    }

    @Test("no header; integer classes; quoted fields")
    func noHeader() throws {
        let path = write("0.5,\"1,5\",2\n1.5,2.5,0\n")
        let m = DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: path, target: -1) }
        #expect(m == "\(path): line 1, column 2: \"1,5\" is not a number")
        let ok = write("0.5,\" 1.5\",2\n1.5,2.5,0\n")
        let d = try TensorDataset.csv(path: ok, target: -1)
        #expect(d.features == Tensor<Float>([[0.5, 1.5], [1.5, 2.5]]))
        #expect(d.classCount == 3 && d.classIndicesList == [2, 0])
    }

    @Test("bad input: non-numeric cell, ragged row, missing target column, empty file")
    func badInput() {
        let nonNumeric = write("x,y,t\n1,2,0\n3,abc,1\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: nonNumeric, target: "t") }
                == "\(nonNumeric): line 3, column 2 (\"y\"): \"abc\" is not a number")
        let ragged = write("x,y,t\n1,2,0\n3,4\n5,6,1\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: ragged, target: "t") }
                == "\(ragged): line 3: ragged row: 2 fields, expected 3 as in the header")
        let raggedNoHeader = write("1,2,0\n3,4,1,9\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try CSVTable(path: raggedNoHeader) }
                == "\(raggedNoHeader): line 2: ragged row: 4 fields, expected 3 as in line 1")
        let good = write("x,y,t\n1,2,0\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: good, target: "label") }
                == "\(good): no column named \"label\" (columns: x, y, t)")
        #expect(DataTestSupport.dataErrorMessage { _ = try TensorDataset.csv(path: good, target: 5) }
                == "\(good): column index 5 is out of range: the file has 3 columns (0...2)")
        let empty = write("")
        #expect(DataTestSupport.dataErrorMessage { _ = try CSVTable(path: empty) } == "\(empty): the file is empty")
        let missing = "/nonexistent/data.csv"
        #expect(DataTestSupport.dataErrorMessage { _ = try CSVTable(path: missing) }
                == "\(missing): cannot open for reading: No such file or directory")
        let quote = write("1,\"open\n")
        #expect(DataTestSupport.dataErrorMessage { _ = try CSVTable(path: quote) } == "\(quote): line 1: unterminated quoted field")
    }
}
